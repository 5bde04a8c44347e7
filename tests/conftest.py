"""Shared fixtures: a tiny trained and exported model (once per session), the shipped model.

Imports of torch and training stay inside the fixtures, so test modules that never ask for a
model (the Sudoku core, the app) do not pay for torch.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = ROOT / "assets" / "model.onnx"
TINY_STEPS = 300  # at most this many steps ...
TINY_MINUTES = 0.5  # ... or this much training time, whichever comes first


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of the `tiny` preset, trained briefly in-process: checkpoints + export.

    Trained once per test session (~30-60 s here). The exported model is real (energy gradient
    in the graph) but weak: it learns enough that the energy descent visibly lowers the energy.
    """
    import torch

    from model.export import export_checkpoint
    from training.presets import preset
    from training.run import RunDir
    from training.trainer import Trainer

    path = tmp_path_factory.mktemp("tiny_run") / "tiny"
    cfg = preset("tiny")
    run = RunDir(path)
    run.create(cfg.to_dict())
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    threads = torch.get_num_threads()
    try:
        trainer = Trainer(cfg, run, quiet=True, steps=TINY_STEPS)
        code = trainer.fit(minutes=TINY_MINUTES)
    finally:  # the trainer installs its own SIGINT/SIGTERM handlers and thread count
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        torch.set_num_threads(threads)
    assert code == 0, f"tiny training run failed with exit code {code}; see {run.log_path}"
    model = run.export_dir / "model.onnx"
    if not model.is_file():  # the trainer's automatic export is best-effort: do it here
        checkpoint = run.best if run.best.is_file() else run.latest
        export_checkpoint(checkpoint, model)
    return path


@pytest.fixture(scope="session")
def tiny_onnx_model(tiny_run: Path) -> Path:
    """Path of the tiny run's exported solver file (`runs/<name>/export/model.onnx` layout)."""
    return tiny_run / "export" / "model.onnx"


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_run: Path) -> Path:
    """The tiny run's checkpoint the export came from (best, else latest)."""
    best = tiny_run / "checkpoints" / "best.pt"
    return best if best.is_file() else tiny_run / "checkpoints" / "latest.pt"


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    """assets/model.onnx, the model `make run` ships; skips when it has not been trained yet."""
    if not SHIPPED_MODEL.is_file():
        pytest.skip(f"no shipped model at {SHIPPED_MODEL} (train the cpu preset and export it)")
    return SHIPPED_MODEL
