"""Reading a training checkpoint: one loader for the trainer's resume and the ONNX export.

It lives in `model` (not `training`) because the export, which is part of the model package,
needs it too, and dependencies flow training -> model only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read; never silently restart from scratch."""


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint; a missing or corrupt file raises CheckpointError naming the path."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises several types for damaged zip/pickle data
        raise CheckpointError(f"{path}: corrupt or unreadable checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or "model" not in payload or "config" not in payload:
        raise CheckpointError(f"{path}: not a sudoku-jepa checkpoint (missing model/config)")
    return payload


def model_from_checkpoint(payload: dict[str, Any], path: str | Path,
                          eval_steps: int | None = None):
    """Rebuild the SudokuJEPA a checkpoint holds (config stored inside, nanoGPT style).

    `eval_steps` overrides the default test-time steps (descent steps; the baseline's encoder
    iterations). Weights that do not fit the stored config raise CheckpointError naming the path.
    """
    from model.network import ModelConfig, SudokuJEPA

    cfg = ModelConfig.from_dict(payload.get("model_config") or payload["config"].get("model", {}))
    if eval_steps is not None:
        if cfg.jepa:
            cfg.eval_steps = int(eval_steps)
        else:
            cfg.eval_iters = int(eval_steps)
    model = SudokuJEPA(cfg)
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the stored config ({exc})") from exc
    return model
