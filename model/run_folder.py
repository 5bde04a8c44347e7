"""The training run folder's format: its layout, the `state.json` schema, and whether the process
that claims to run it is alive.

One writer (the trainer, `training/run.py`) and several readers (the app's run monitor, a resumed
trainer) share this format, and the app must read it without torch; so it lives here, in the
torch-free, Qt-free part of `model`, instead of twice. Layout (docs/ARCHITECTURE.md "Training
runs"): runs/<name>/{config.json, metrics.jsonl, train.log, state.json, checkpoints/latest.pt,
checkpoints/best.pt, export/model.onnx}. Files other processes read are written with
`model.atomic_file`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONFIG = "config.json"  # the resolved training config, written once at creation
STATE = "state.json"  # the trainer's status, rewritten atomically (schema below)
METRICS = "metrics.jsonl"  # append-only, one JSON object a line; readers take complete lines
LOG = "train.log"
RUN_FILES = (CONFIG, STATE, METRICS, LOG)  # a folder holding any of these is a run

# state.json: {"state": one of WRITTEN_STATES, "pid": writer's process id, "step": int,
# "total_steps": int, "best": {"step", "val_puzzle_acc", ...} or null, "started" / "updated":
# ISO-8601 UTC text, "message": the trainer's own words (the error when "failed")}.
WRITTEN_STATES = ("running", "finished", "stopped", "failed")


class RunLayout:
    """Where each file of one run folder lives; reading or writing is the caller's job."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.config_path = self.path / CONFIG
        self.state_path = self.path / STATE
        self.metrics_path = self.path / METRICS
        self.log_path = self.path / LOG
        self.checkpoints = self.path / "checkpoints"
        self.latest = self.checkpoints / "latest.pt"
        self.best = self.checkpoints / "best.pt"
        self.export_dir = self.path / "export"
        self.export_model = self.export_dir / "model.onnx"


def is_run_dir(path: Path) -> bool:
    """A folder is a run when the trainer has written at least one of its files into it."""
    path = Path(path)
    return path.is_dir() and any((path / name).exists() for name in RUN_FILES)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie (finished, not yet reaped)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    if sys.platform.startswith("linux") and stat.exists():
        try:
            # "pid (comm) S ...": the state letter follows the last ")".
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        return state not in ("Z", "X")
    return True
