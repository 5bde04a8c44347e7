"""The run monitor on hand-written run directories, healthy and broken (no Qt, no training)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.run_monitor import (
    MetricsTail,
    format_duration,
    last_eval_row,
    log_tail,
    pid_alive,
    progress,
    read_run,
    scan_runs,
    stop_pid,
)


def make_run(
    root: Path,
    name: str,
    state: dict | None = None,
    rows: list[dict] | None = None,
    checkpoint: bool = True,
    export: bool = False,
    config: dict | None = None,
) -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(config or {"steps": 100, "batch_size": 8}))
    if state is not None:
        (run / "state.json").write_text(json.dumps(state))
    if rows is not None:
        (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if checkpoint:
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / "latest.pt").write_bytes(b"x")
    if export:
        (run / "export").mkdir()
        (run / "export" / "model.onnx").write_bytes(b"x")
    return run


def state(kind: str, pid: int | None = None, step: int = 10, **extra) -> dict:
    return {
        "state": kind,
        "pid": pid,
        "step": step,
        "total_steps": 100,
        "best": {"val_puzzle_acc": 0.25, "val_cell_acc": 0.8},
        "started": "2026-11-26T18:00:00Z",
        "updated": "2026-11-26T18:05:00Z",
        "message": "",
        **extra,
    }


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def trainer_like_process() -> subprocess.Popen:
    """A stand-in whose command line mentions train, as `sudoku-jepa train` does."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "train"])


def test_states_of_healthy_runs(tmp_path):
    make_run(tmp_path, "done", state("finished", step=100), export=True)
    make_run(tmp_path, "paused", state("stopped"))
    proc = trainer_like_process()
    make_run(tmp_path, "live", state("running", pid=proc.pid))
    runs = {r.name: r for r in scan_runs(tmp_path)}
    assert runs["done"].label == "finished" and runs["done"].has_export
    assert runs["paused"].label == "stopped" and runs["paused"].can_resume
    assert runs["live"].label == "running" and runs["live"].pid == proc.pid
    assert runs["done"].best_accuracy == 0.25
    assert runs["done"].step == 100 and runs["done"].total_steps == 100
    proc.kill()
    proc.wait()
    assert read_run(tmp_path / "live").label == "stopped (process gone)"


def test_a_reused_pid_is_not_taken_for_the_trainer(tmp_path):
    """The trainer died and its pid now runs something else: that is not a running trainer,
    and Stop must not signal it."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        make_run(tmp_path, "reused", state("running", pid=other.pid))
        assert read_run(tmp_path / "reused").label == "stopped (process gone)"
        with pytest.raises(ProcessLookupError):
            stop_pid(other.pid)
        assert other.poll() is None  # untouched
    finally:
        other.kill()
        other.wait()


def test_running_with_dead_pid_is_stopped_process_gone(tmp_path):
    make_run(tmp_path, "crashed", state("running", pid=dead_pid()))
    info = read_run(tmp_path / "crashed")
    assert info.state == "stopped"
    assert info.label == "stopped (process gone)"
    assert info.can_resume


def test_running_without_pid_is_process_gone(tmp_path):
    make_run(tmp_path, "nopid", state("running", pid=None))
    assert read_run(tmp_path / "nopid").label == "stopped (process gone)"


def test_missing_checkpoint_is_named_and_not_resumable(tmp_path):
    make_run(tmp_path, "nockpt", state("stopped"), checkpoint=False)
    info = read_run(tmp_path / "nockpt")
    assert info.label == "stopped (no checkpoint)"
    assert not info.can_resume


def test_broken_and_partial_directories_are_incomplete(tmp_path):
    make_run(tmp_path, "nostate", state=None, rows=[{"step": 3}, {"step": 7}])
    bad = make_run(tmp_path, "badstate", state=None)
    (bad / "state.json").write_text('{"state": "runn')
    weird = make_run(tmp_path, "weird", state=None)
    (weird / "state.json").write_text('{"state": "exploded"}')
    listy = make_run(tmp_path, "listy", state=None)
    (listy / "state.json").write_text("[1, 2]")
    runs = {r.name: r for r in scan_runs(tmp_path)}
    assert runs["nostate"].state == "incomplete"
    assert "state.json missing" in runs["nostate"].reason
    assert runs["nostate"].step == 7
    assert runs["badstate"].state == "incomplete"
    assert "not valid JSON" in runs["badstate"].reason
    assert "unknown state 'exploded'" in runs["weird"].reason
    assert "not a JSON object" in runs["listy"].reason


def test_junk_in_the_runs_folder_is_skipped(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty_folder").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "picture.png").write_bytes(b"\x89PNG")
    make_run(tmp_path, "real", state("finished", step=100))
    assert [r.name for r in scan_runs(tmp_path)] == ["real"]
    assert scan_runs(tmp_path / "does-not-exist") == []


def test_config_only_directory_is_listed(tmp_path):
    run = tmp_path / "fresh"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (info,) = scan_runs(tmp_path)
    assert info.state == "incomplete" and info.reason == "state.json missing"


def test_tail_reads_complete_lines_once_and_keeps_the_partial_one(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert tail.read_new() == []  # no file yet
    path.write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "lo')
    assert [r["step"] for r in tail.read_new()] == [1]
    assert tail.offset == len('{"step": 1, "loss": 2.0}\n')
    assert tail.read_new() == []  # the partial line is not read twice or half
    with path.open("a") as f:
        f.write('ss": 1.5}\n{"step": 3, "loss": 1.0}\n')
    assert [r["step"] for r in tail.read_new()] == [2, 3]
    assert [r["step"] for r in tail.rows] == [1, 2, 3]
    assert tail.read_new() == []


def test_tail_skips_garbage_lines_and_restarts_on_a_shrunk_file(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 1}\nnot json\n[1]\n\xff\xfe\n{"step": 2}\n')
    tail = MetricsTail(path)
    assert [r["step"] for r in tail.read_new()] == [1, 2]
    assert tail.bad_lines == 3
    path.write_text('{"step": 9}\n')  # replaced by a shorter file
    assert [r["step"] for r in tail.read_new()] == [9]
    assert tail.reset and [r["step"] for r in tail.rows] == [9]


def test_truncated_metrics_file_does_not_break_the_listing(tmp_path):
    run = make_run(tmp_path, "cut", state("stopped", step=20), rows=[{"step": 10}])
    with (run / "metrics.jsonl").open("a") as f:
        f.write('{"step": 20, "loss": 0.')
    info = read_run(run)
    assert info.label == "stopped"
    tail = MetricsTail(run / "metrics.jsonl")
    assert [r["step"] for r in tail.read_new()] == [10]


def test_progress_and_eta(tmp_path, monkeypatch):
    monkeypatch.setattr("app.run_monitor.pid_is_trainer", lambda pid: True)
    make_run(tmp_path, "live", state("running", pid=os.getpid(), step=40))
    info = read_run(tmp_path / "live")
    rows = [{"step": 40, "eta_s": 125.0}, {"step": 50, "eta_s": 100.0}]
    assert progress(info, rows) == (0.5, 100.0)
    assert progress(info, []) == (0.4, None)
    make_run(tmp_path, "done", state("finished", step=100))
    assert progress(read_run(tmp_path / "done"), rows) == (1.0, None)
    assert format_duration(100) == "1m 40s"
    assert format_duration(3725) == "1h 02m"
    assert format_duration(None) == ""


def test_last_eval_row_and_log_tail(tmp_path):
    rows = [{"step": 1}, {"step": 2, "val_cell_acc": 0.5}, {"step": 3}]
    assert last_eval_row(rows)["step"] == 2
    assert last_eval_row([{"step": 1}]) is None
    log = tmp_path / "train.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert log_tail(log, lines=3) == "line 97\nline 98\nline 99"
    assert log_tail(tmp_path / "missing.log") == ""


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())
    assert not pid_alive(0)


def test_unix_time_in_state_is_shown_as_text(tmp_path):
    make_run(tmp_path, "t", state("finished", started=1_764_180_000.0))
    assert read_run(tmp_path / "t").started == "2025-11-26 18:00:00"


def test_tail_restarts_when_the_file_is_replaced_by_a_longer_one(tmp_path):
    """A resume rewrites metrics.jsonl atomically; rows may outgrow the old offset by the next
    read, so the offset alone cannot tell."""
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n')
    tail = MetricsTail(path)
    assert len(tail.read_new()) == 2
    replacement = tmp_path / "metrics.jsonl.tmp"
    replacement.write_text('{"step": 1}\n{"step": 2, "again": true}\n{"step": 3}\n')
    os.replace(replacement, path)
    assert [r["step"] for r in tail.read_new()] == [1, 2, 3]
    assert tail.reset and len(tail.rows) == 3
