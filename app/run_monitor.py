"""Read training run directories written by `sudoku-jepa train`, without Qt and without torch.

The trainer is the only writer of a run directory; this module only reads it, so a run started
from a terminal looks the same as one started from the app. The layout and the state.json schema
are `model.run_folder`'s, shared with the writer.

Nothing here raises on a broken run directory: a run that cannot be read is listed with the state
"incomplete" and a reason, so one bad folder never takes the panel down.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model.run_folder import WRITTEN_STATES, RunLayout, is_run_dir, pid_alive

STATES = (*WRITTEN_STATES, "incomplete")  # "incomplete": the folder cannot be read as a run


@dataclass
class RunInfo:
    """One run directory as the panel lists it."""

    name: str
    path: Path
    state: str  # one of STATES
    reason: str = ""  # why the state is what it is, when that is not obvious ("process gone")
    step: int | None = None
    total_steps: int | None = None
    best: dict[str, Any] = field(default_factory=dict)
    started: str | None = None
    updated: str | None = None
    pid: int | None = None
    message: str = ""  # state.json "message": the trainer's own words (e.g. the error)
    config: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """State as shown to the user: "stopped (process gone)"."""
        return f"{self.state} ({self.reason})" if self.reason else self.state

    @property
    def export_path(self) -> Path:
        return RunLayout(self.path).export_model

    @property
    def has_export(self) -> bool:
        return self.export_path.is_file()

    @property
    def checkpoint_path(self) -> Path:
        return RunLayout(self.path).latest

    @property
    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    @property
    def can_resume(self) -> bool:
        return self.state in ("stopped", "failed") and self.has_checkpoint

    @property
    def best_accuracy(self) -> float | None:
        """The best validation puzzle accuracy (or cell accuracy) the trainer recorded."""
        for key in ("val_puzzle_acc", "puzzle_acc", "val_cell_acc", "cell_acc"):
            value = self.best.get(key)
            if isinstance(value, int | float):
                return float(value)
        return None


def read_json(path: Path) -> tuple[dict[str, Any] | None, str]:
    """(object, "") or (None, reason): a missing, unreadable or non-object file is a reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, f"{path.name} missing"
    except OSError as exc:
        return None, f"{path.name} unreadable: {exc.strerror or exc}"
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"{path.name} is not valid JSON (line {getattr(exc, 'lineno', '?')})"
    if not isinstance(value, dict):
        return None, f"{path.name} is not a JSON object"
    return value, ""


def pid_is_trainer(pid: int) -> bool:
    """Whether a live pid still runs a trainer, not another program that reused the id after the
    trainer died. Linux reads the command line; elsewhere a live pid is trusted."""
    if not pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not sys.platform.startswith("linux") or not cmdline.exists():
        return True
    try:
        return b"train" in cmdline.read_bytes()  # sudoku-jepa train, -m training, torchrun...
    except OSError:
        return True


def read_run(path: Path) -> RunInfo:
    """Classify one run directory; never raises for a broken directory."""
    layout = RunLayout(path)
    info = RunInfo(name=layout.path.name, path=layout.path, state="incomplete")
    config, config_reason = read_json(layout.config_path)
    info.config = config
    state, state_reason = read_json(layout.state_path)
    if state is None:
        info.reason = state_reason if config is not None else f"{state_reason}, {config_reason}"
        info.step = last_metrics_step(layout.metrics_path)
        return info

    info.step = _as_int(state.get("step"))
    info.total_steps = _as_int(state.get("total_steps"))
    info.pid = _as_int(state.get("pid"))
    info.started = _as_time(state.get("started"))
    info.updated = _as_time(state.get("updated"))
    info.message = _as_str(state.get("message")) or ""
    best = state.get("best")
    info.best = best if isinstance(best, dict) else {}
    if info.total_steps is None and config is not None:
        info.total_steps = _as_int(config.get("steps") or config.get("total_steps"))

    claimed = state.get("state")
    if claimed not in WRITTEN_STATES:
        info.reason = f"state.json has unknown state {claimed!r}"
        return info
    info.state = claimed
    if claimed == "running" and (info.pid is None or not pid_is_trainer(info.pid)):
        info.state, info.reason = "stopped", "process gone"
    if info.state in ("stopped", "failed") and not info.has_checkpoint:
        info.reason = ", ".join(r for r in (info.reason, "no checkpoint") if r)
    if config is None:
        info.reason = ", ".join(r for r in (info.reason, config_reason) if r)
    return info


def scan_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run under `runs_dir`, newest first; files and foreign folders are skipped."""
    runs_dir = Path(runs_dir)
    try:
        children = list(runs_dir.iterdir())
    except OSError:
        return []
    runs = [read_run(child) for child in children if is_run_dir(child)]
    runs.sort(key=lambda r: (r.started or "", r.name), reverse=True)
    return runs


def last_metrics_step(path: Path) -> int | None:
    """Step of the last complete metrics row, for runs without a state file."""
    tail = MetricsTail(path)
    tail.read_new()
    return _as_int(tail.rows[-1].get("step")) if tail.rows else None


class MetricsTail:
    """Follows `metrics.jsonl` as it grows: reads each complete line exactly once.

    A partial last line (the writer is mid-write, or the file was truncated) is left for the next
    read: the byte offset only moves past lines ending in a newline. A file that shrinks or is
    replaced by another file (new inode) starts over (`reset` tells the caller to clear plots).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0  # bytes consumed: always just after a newline
        self.rows: list[dict[str, Any]] = []
        self.bad_lines = 0  # complete lines that were not a JSON object
        self.reset = False
        self.identity: tuple[int, int] | None = None  # (device, inode) of the file read

    def read_new(self) -> list[dict[str, Any]]:
        """Rows completed since the last call (also appended to `self.rows`)."""
        self.reset = False
        try:
            stat = self.path.stat()
        except OSError:
            return []
        size, identity = stat.st_size, (stat.st_dev, stat.st_ino)
        if size < self.offset or (self.identity is not None and identity != self.identity):
            # Rewritten (a resume drops rows after its checkpoint, via an atomic replace).
            self.offset, self.rows, self.bad_lines, self.reset = 0, [], 0, True
        self.identity = identity
        if size == self.offset:
            return []
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                chunk = f.read(size - self.offset)
        except OSError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        new: list[dict[str, Any]] = []
        for line in chunk[:end].split(b"\n"):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                self.bad_lines += 1
                continue
            if isinstance(row, dict):
                new.append(row)
            else:
                self.bad_lines += 1
        self.rows.extend(new)
        return new


def last_eval_row(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last row that carries validation metrics."""
    for row in reversed(rows):
        if "val_cell_acc" in row or "val_puzzle_acc" in row:
            return row
    return None


def progress(info: RunInfo, rows: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """(fraction done in [0, 1] or None, seconds left or None) from the state and last row."""
    last = rows[-1] if rows else {}
    step = _as_int(last.get("step"))
    if step is None:
        step = info.step
    total = info.total_steps or _as_int(last.get("total_steps"))
    fraction = None
    if step is not None and total:
        fraction = max(0.0, min(1.0, step / total))
    if info.state == "finished":
        fraction = 1.0
    eta = last.get("eta_s")
    eta_s = float(eta) if isinstance(eta, int | float) and info.state == "running" else None
    return fraction, eta_s


def format_duration(seconds: float | None) -> str:
    """'1h 02m', '3m 05s', '42s'; '' for None."""
    if seconds is None:
        return ""
    s = max(0, int(round(seconds)))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def log_tail(path: Path, lines: int = 40, max_bytes: int = 64_000) -> str:
    """The last `lines` lines of a log file ('' when it is missing)."""
    try:
        with Path(path).open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def model_val_metrics(path: Path) -> dict[str, Any]:
    """Validation metrics stored in an exported model's ONNX metadata ({} when unreadable),
    plus its `run_name`. Keys get the `val_` prefix of metrics.jsonl, so both sources compare
    key by key. Reads the metadata with `onnx` alone: no inference session is built."""
    try:
        import onnx

        proto = onnx.load(str(path), load_external_data=False)
        metadata = {p.key: p.value for p in proto.metadata_props}
        metrics = json.loads(metadata.get("val_metrics", "{}"))
    except Exception:  # any unreadable model simply has no metrics to show
        return {}
    if not isinstance(metrics, dict):
        return {}
    named = {k if k.startswith("val_") or k == "step" else f"val_{k}": v
             for k, v in metrics.items()}
    return {**named, "run_name": metadata.get("run_name", "")}


def stop_pid(pid: int) -> None:
    """Ask a trainer this app did not start to stop: SIGTERM, which it handles gracefully.
    Raises ProcessLookupError when the pid is gone or now belongs to another program."""
    if not pid_is_trainer(pid):
        raise ProcessLookupError(f"process {pid} is not a running trainer")
    os.kill(pid, signal.SIGTERM)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _as_time(value: Any) -> str | None:
    """ISO text kept as written; a Unix time becomes 'YYYY-MM-DD HH:MM:SS' (UTC), so both sort."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        except (OverflowError, OSError, ValueError):
            return None
    return _as_str(value)
