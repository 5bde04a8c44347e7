"""Run folder: atomic checkpoints, corrupt checkpoints are errors, state and metrics files."""

import json

import pytest
import torch

from training.run import CheckpointError, RunDir, load_checkpoint, save_checkpoint, unique_run_path


def test_checkpoint_round_trip_leaves_no_temp_files(tmp_path):
    path = tmp_path / "checkpoints" / "latest.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(2)}, "config": {}, "step": 3})
    assert load_checkpoint(path)["step"] == 3
    assert [p.name for p in path.parent.iterdir()] == ["latest.pt"]


def test_corrupt_or_foreign_checkpoint_is_an_error(tmp_path):
    bad = tmp_path / "latest.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(bad)
    torch.save({"weights": 1}, bad)
    with pytest.raises(CheckpointError, match="not a sudoku-jepa checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "none.pt")


def test_state_metrics_and_unique_names(tmp_path):
    run = RunDir(unique_run_path(tmp_path, "r"))
    run.create({"a": 1})
    assert unique_run_path(tmp_path, "r").name == "r-2"
    run.write_state(state="running", step=1)
    run.write_state(step=2)
    state = json.loads(run.state_path.read_text())
    assert state["state"] == "running" and state["step"] == 2 and "updated" in state
    for step in (1, 2, 3):
        run.append_metrics({"step": step, "loss": float("nan") if step == 3 else 1.0})
    rows = [json.loads(line) for line in run.metrics_path.read_text().splitlines()]
    assert rows[-1]["loss"] is None  # non-finite -> null, still valid JSON
    run.truncate_metrics_after(2)
    assert [json.loads(x)["step"] for x in run.metrics_path.read_text().splitlines()] == [1, 2]
