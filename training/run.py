"""Writing a run directory: resolved config, append-only metrics, log, state file, checkpoints.

The layout and the state.json schema are `model.run_folder`'s (shared with the app, which reads
runs without torch). Files other processes read (state, checkpoints) are written with
`model.atomic_file`: temp file in the same folder, fsync, rename over the live path.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from model.atomic_file import atomic_write_bytes, temp_file_writer

# Re-exported: the trainer and the CLI read checkpoints through the run module.
from model.checkpoint import CheckpointError, load_checkpoint  # noqa: F401
from model.run_folder import RunLayout, pid_alive


class CheckpointWriteError(RuntimeError):
    """A checkpoint that cannot be written (e.g. a full disk); the previous one is left intact."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Atomic write; an OSError (full disk, ...) becomes CheckpointWriteError naming the path."""
    try:
        buf = io.BytesIO()
        torch.save(payload, buf)
        atomic_write_bytes(path, buf.getvalue(), make_parents=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CheckpointWriteError(
            f"{path}: cannot write checkpoint ({reason}); the previous checkpoint is kept"
        ) from exc


def _clean(value: Any) -> Any:
    """JSON-safe: non-finite floats become null (the metrics file stays valid JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RunDir(RunLayout):
    """One training run's folder, written. Only rank 0 of a run creates one (one writer per
    file); the paths are `RunLayout`'s."""

    def __init__(self, path: str | Path):
        super().__init__(path)
        self._state: dict[str, Any] = {}

    def create(self, config: dict) -> None:
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.export_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.config_path, json.dumps(config, indent=2).encode(), True)

    def read_config(self) -> dict:
        return json.loads(self.config_path.read_text())

    def append_metrics(self, row: dict[str, Any]) -> None:
        line = json.dumps({k: _clean(v) for k, v in row.items()})
        with open(self.metrics_path, "a") as fh:
            fh.write(line + "\n")
            fh.flush()

    def log(self, message: str) -> None:
        with open(self.log_path, "a") as fh:
            fh.write(f"{_now()} {message}\n")

    def write_state(self, **fields: Any) -> None:
        """Merge `fields` into state.json (keys: state, pid, step, total_steps, best, ...)."""
        if not self._state and self.state_path.is_file():
            try:
                self._state = json.loads(self.state_path.read_text())
            except json.JSONDecodeError:
                self._state = {}
        self._state.update(fields)
        self._state.setdefault("started", _now())
        self._state["pid"] = os.getpid()
        self._state["updated"] = _now()
        atomic_write_bytes(self.state_path, json.dumps(self._state, indent=2).encode(), True)

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete `<name>.<pid>.tmp` files whose writer is gone (a SIGKILL mid-write leaves one;
        it is never read, but a large model's would pile up over restarts)."""
        removed = []
        for tmp in [*self.path.glob("*.tmp"), *self.checkpoints.glob("*.tmp")]:
            pid = temp_file_writer(tmp)
            if pid is None or pid == os.getpid() or pid_alive(pid):
                continue
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
        return removed

    def truncate_metrics_after(self, step: int) -> None:
        """On resume: drop rows logged after the checkpoint's step (they will be logged again)."""
        if not self.metrics_path.is_file():
            return
        keep = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    keep.append(line)
            except json.JSONDecodeError:
                continue
        atomic_write_bytes(self.metrics_path, ("\n".join(keep) + "\n" if keep else "").encode())


def unique_run_path(out: str | Path, name: str | None) -> Path:
    """runs/<name>, or runs/<name>-2, -3... when the name is taken; a timestamp if no name."""
    out = Path(out)
    base = name or time.strftime("run-%Y%m%d-%H%M%S")
    path, k = out / base, 2
    while path.exists():
        path, k = out / f"{base}-{k}", k + 1
    return path
