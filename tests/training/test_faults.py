"""Training under faults: SIGKILL at random moments (also mid checkpoint write), a full disk during
a checkpoint write. A NaN loss is covered by
tests/training/test_trainer.py::test_nan_loss_stops_names_step_and_term_and_keeps_last_checkpoint.

Checkpoints are written every step (`checkpoint_minutes=0`), so "at most one checkpoint interval
lost" means: the checkpoint's step is at most one behind the last step the killed process logged.
"""

import builtins
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model import atomic_file
from training import cli
from training.run import load_checkpoint
from training.trainer import EXIT_CHECKPOINT_FAILED

ROOT = Path(__file__).resolve().parents[2]
REAL_FSYNC = os.fsync

FAULT_SET = {"batch_size": 8, "data.val_size": 16, "energy_gap_size": 8, "eval_every": 5,
             "log_every": 1, "export": False, "threads": 1, "model.iters": 3,
             "model.eval_iters": 3, "model.supervised_iters": 2, "checkpoint_minutes": 0}

# Runs `python -m training ARGS`; with SLOW_CHECKPOINT_WRITES set, checkpoint temp files are
# written in small chunks with pauses, so a kill can land in the middle of one.
LAUNCHER = """
import builtins, os, sys, time
import model.atomic_file as atomic_file
from training.launch import main

class SlowFile:
    def __init__(self, fh):
        self._fh = fh
    def write(self, data):
        view = memoryview(data)
        for i in range(0, len(view), 16384):
            self._fh.write(view[i:i + 16384])
            self._fh.flush()
            time.sleep(0.05)
        return len(view)
    def __getattr__(self, name):
        return getattr(self._fh, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self._fh.__exit__(*exc)

def slow_open(path, mode="r", *args, **kwargs):
    fh = builtins.open(path, mode, *args, **kwargs)
    return SlowFile(fh) if str(path).endswith(".tmp") and ".pt." in str(path) else fh

if os.environ.get("SLOW_CHECKPOINT_WRITES"):
    atomic_file.open = slow_open
sys.exit(main(sys.argv[1:]))
"""


def _set_args(overrides: dict) -> list[str]:
    return [a for k, v in overrides.items() for a in ("--set", f"{k}={json.dumps(v)}")]


def _logged_steps(run_path: Path) -> list[int]:
    """Steps of the training rows in metrics.jsonl (a torn last line is skipped)."""
    steps = []
    path = run_path / "metrics.jsonl"
    for line in (path.read_text().splitlines() if path.exists() else []):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "loss" in row:
            steps.append(row["step"])
    return steps


def _start(args: list[str], slow: bool = False) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if slow:
        env["SLOW_CHECKPOINT_WRITES"] = "1"
    return subprocess.Popen([sys.executable, "-c", LAUNCHER, *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"trainer exited ({proc.returncode}) before {what}: "
                                 f"{proc.stderr.read()}")
        if time.time() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def _check_after_kill(run_path: Path, previous_step: int) -> int:
    """The latest checkpoint loads, is at most one interval behind the log (never ahead of it:
    a step's metrics row is written before its checkpoint), never goes back."""
    latest = run_path / "checkpoints" / "latest.pt"
    step = load_checkpoint(latest)["step"]
    logged = _logged_steps(run_path)
    assert logged, "the killed trainer logged no step"
    assert max(logged) - 1 <= step <= max(logged), (step, max(logged))
    assert step >= previous_step
    print(f"killed: checkpoint step {step}, last logged step {max(logged)}, "
          f"{len(_temp_checkpoints(run_path))} torn temp file(s)")
    best = run_path / "checkpoints" / "best.pt"
    if best.exists():
        load_checkpoint(best)
    return step


def _temp_checkpoints(run_path: Path) -> list[Path]:
    return sorted((run_path / "checkpoints").glob("*.pt.*.tmp"))


def _finish_and_check(run_path: Path, step: int) -> None:
    """Resume in-process to a few steps past the checkpoint: every step logged once, in order."""
    assert cli.main(["train", "--resume", str(run_path), "--quiet", "--steps", str(step + 3)]) == 0
    assert json.loads((run_path / "state.json").read_text())["state"] == "finished"
    assert _logged_steps(run_path) == list(range(1, step + 4))
    assert _temp_checkpoints(run_path) == []  # torn temp files of killed trainers are removed


def test_sigkill_during_a_checkpoint_write_keeps_the_previous_checkpoint(tmp_path):
    run_path = tmp_path / "mid-write"
    proc = _start(["--preset", "tiny", "--out", str(tmp_path), "--name", "mid-write", "--quiet",
                   "--steps", "100000", *_set_args(FAULT_SET)], slow=True)
    latest = run_path / "checkpoints" / "latest.pt"
    _wait_for(latest.exists, proc, "the first checkpoint")
    _wait_for(lambda: any(p.stat().st_size > 0 for p in _temp_checkpoints(run_path)), proc,
              "a checkpoint write in progress")
    time.sleep(random.uniform(0.0, 0.2))
    _kill(proc)
    torn = _temp_checkpoints(run_path)
    assert torn and torn[0].stat().st_size < latest.stat().st_size  # killed mid-write
    step = _check_after_kill(run_path, 0)
    _finish_and_check(run_path, step)


@pytest.mark.slow
def test_sigkill_at_random_moments_always_resumes(tmp_path):
    rng = random.Random(int(os.environ.get("FAULT_SEED", "9")))
    run_path = tmp_path / "kills"
    first = ["--preset", "tiny", "--out", str(tmp_path), "--name", "kills", "--quiet",
             "--steps", "100000", *_set_args(FAULT_SET)]
    latest = run_path / "checkpoints" / "latest.pt"
    step, seen = 0, 0  # seen: the last step the previous trainers reached
    for kill in range(5):
        proc = _start(first if kill == 0 else ["--resume", str(run_path), "--quiet"])
        if kill == 0:
            _wait_for(latest.exists, proc, "the first checkpoint")
        else:
            _wait_for(lambda: max(_logged_steps(run_path), default=0) > seen, proc,  # noqa: B023
                      f"a new step after resuming at step {step}")
        time.sleep(rng.uniform(0.0, 1.0))
        _kill(proc)
        step = _check_after_kill(run_path, step)
        seen = max(_logged_steps(run_path))
    _finish_and_check(run_path, step)


class _FullDisk:
    """Checkpoint temp files (and, with `everything`, every temp file) fail with ENOSPC from the
    `fail_from`-th checkpoint write on, after half the bytes reached the file."""

    def __init__(self, fail_from: int, where: str, everything: bool = False):
        self.fail_from, self.where, self.everything = fail_from, where, everything
        self.writes = 0
        self.latest_before: bytes | None = None

    def _hits(self, path: str) -> bool:
        is_checkpoint = path.endswith(".tmp") and ".pt." in path
        if is_checkpoint:
            self.writes += 1
            if self.writes == self.fail_from:
                latest = Path(path).with_name("latest.pt")
                self.latest_before = latest.read_bytes() if latest.exists() else None
        full = self.writes >= self.fail_from
        return full and (is_checkpoint or (self.everything and path.endswith(".tmp")))

    def open(self, path, mode="r", *args, **kwargs):
        fh = builtins.open(path, mode, *args, **kwargs)  # noqa: SIM115 (returned)
        if self.where == "write" and self._hits(str(path)):
            real_write = fh.write

            def write(data):
                real_write(bytes(data[:len(data) // 2]))
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            fh.write = write
        elif self.where == "fsync":
            self._hits(str(path))
        return fh

    def fsync(self, fd):
        path = os.readlink(f"/proc/self/fd/{fd}")
        is_checkpoint = path.endswith(".tmp") and ".pt." in path
        if self.writes >= self.fail_from and (is_checkpoint or self.everything):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        REAL_FSYNC(fd)


@pytest.mark.parametrize(("where", "everything"),
                         [("write", False), ("fsync", False), ("write", True)])
def test_full_disk_during_a_checkpoint_write(tmp_path, monkeypatch, capsys, where, everything):
    disk = _FullDisk(fail_from=4, where=where, everything=everything)
    monkeypatch.setattr(atomic_file, "open", disk.open, raising=False)
    if where == "fsync":
        monkeypatch.setattr(atomic_file.os, "fsync", disk.fsync)
    code = cli.main(["train", "--preset", "tiny", "--out", str(tmp_path), "--name", "full",
                     "--quiet", "--steps", "8", *_set_args(FAULT_SET)])
    monkeypatch.undo()
    err = capsys.readouterr().err
    run_path = tmp_path / "full"
    assert code == EXIT_CHECKPOINT_FAILED
    assert "No space left on device" in err and "latest.pt" in err and "Traceback" not in err
    latest = run_path / "checkpoints" / "latest.pt"
    assert disk.latest_before is not None and latest.read_bytes() == disk.latest_before
    assert load_checkpoint(latest)["step"] == 3
    assert _temp_checkpoints(run_path) == []
    state = json.loads((run_path / "state.json").read_text())
    if everything:  # state.json could not be written either: the last good one remains
        assert state["state"] == "running"
    else:
        assert state["state"] == "failed" and "No space left on device" in state["message"]
