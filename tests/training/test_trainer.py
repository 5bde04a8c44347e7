"""The training loop: learning, exact resume, stop signals, divergence, corrupt checkpoints,
the CLI, DDP on gloo."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from training import cli
from training.exit_codes import EXIT_MODEL, EXIT_USAGE
from training.run import RunDir, load_checkpoint
from training.trainer import EXIT_DIVERGED, Trainer

from .conftest import micro_config

ROOT = Path(__file__).resolve().parents[2]


def _rows(run_path: Path) -> list[dict]:
    return [json.loads(x) for x in (run_path / "metrics.jsonl").read_text().splitlines()]


def _overrides(cfg_overrides: dict) -> list[str]:
    args = []
    for k, v in cfg_overrides.items():
        args += ["--set", f"{k}={json.dumps(v)}"]
    return args


MICRO_SET = {"batch_size": 8, "data.val_size": 16, "energy_gap_size": 8, "eval_every": 4,
             "log_every": 1, "export": False, "threads": 1, "model.iters": 3,
             "model.eval_iters": 3, "model.supervised_iters": 2}


def test_resume_after_stop_gives_the_same_next_losses(tmp_path, capsys):
    base = ["train", "--preset", "tiny", "--out", str(tmp_path), "--quiet", "--steps", "6",
            *_overrides(MICRO_SET)]
    assert cli.main([*base, "--name", "whole"]) == 0

    cfg = micro_config(log_every=1)
    run = RunDir(tmp_path / "cut")
    run.create(cfg.to_dict())
    trainer = Trainer(cfg, run, steps=6, quiet=True)
    step_fn = trainer.train_step

    def stop_after_three():
        out = step_fn()
        if trainer.step == 3:
            trainer._stop_signal = "SIGTERM"
        return out

    trainer.train_step = stop_after_three
    assert trainer.fit() == 0
    state = json.loads(run.state_path.read_text())
    assert state["state"] == "stopped" and state["step"] == 3 and "resume" in state["message"]
    assert load_checkpoint(run.latest)["step"] == 3

    assert cli.main(["train", "--resume", str(run.path), "--quiet"]) == 0
    whole = {r["step"]: r["loss"] for r in _rows(tmp_path / "whole") if "loss" in r}
    resumed = {r["step"]: r["loss"] for r in _rows(run.path) if "loss" in r}
    for step in (4, 5, 6):
        assert resumed[step] == pytest.approx(whole[step], rel=1e-6, abs=1e-7), step
    assert json.loads(run.state_path.read_text())["state"] == "finished"

    # eval subcommand on the finished checkpoint: its figures are those of the model's own decode
    from model.board import format_grid
    from model.checkpoint import model_from_checkpoint
    from training.data import DataConfig, validation_sets
    from training.trainer import predict

    puzzles, solutions = validation_sets(DataConfig(val_size=4, val_bands=(("e", 34, 44),)))["e"]
    f = tmp_path / "p.txt"
    f.write_text("".join(format_grid(p) + "\n" for p in puzzles))
    capsys.readouterr()
    assert cli.main(["eval", "--checkpoint", str(run.best), str(f), "--device", "cpu",
                     "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    model = model_from_checkpoint(load_checkpoint(run.best), run.best).eval()
    with torch.no_grad():
        pred = predict(model, torch.as_tensor(puzzles).long(), row["iters"]).numpy()
    empty = puzzles == 0
    right = (pred == solutions) & empty
    assert row["file"] == str(f) and row["puzzles"] == 4 and row["iters"] == model.cfg.eval_iters
    assert row["cell_acc"] == pytest.approx(right.sum() / empty.sum())
    assert row["puzzle_acc"] == pytest.approx(np.mean((right | ~empty).all(axis=1)))
    assert 0.0 < row["cell_acc"] < 1.0  # a few steps of training: some cells, not all
    assert row["ms_per_puzzle"] > 0


def test_nan_loss_stops_names_step_and_term_and_keeps_last_checkpoint(tmp_path, monkeypatch):
    from training import trainer as trainer_mod

    real = trainer_mod.compute_losses
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        losses = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            losses["loss_energy"] = losses["loss_energy"] * float("nan")
        return losses

    monkeypatch.setattr(trainer_mod, "compute_losses", poisoned)
    cfg = micro_config(eval_every=1)
    run = RunDir(tmp_path / "nan")
    run.create(cfg.to_dict())
    assert Trainer(cfg, run, steps=6, quiet=True).fit() == EXIT_DIVERGED
    state = json.loads(run.state_path.read_text())
    assert state["state"] == "failed"
    assert "step 2" in state["message"] and "loss_energy" in state["message"]
    assert load_checkpoint(run.latest)["step"] == 2


def test_corrupt_checkpoint_on_resume_is_an_error(tmp_path, capsys):
    run = RunDir(tmp_path / "bad")
    run.create({})
    run.latest.write_bytes(b"garbage")
    assert cli.main(["train", "--resume", str(run.path), "--quiet"]) == EXIT_MODEL
    assert "sudoku-jepa train: " in (err := capsys.readouterr().err) and "corrupt" in err


def test_unknown_config_key_is_an_error(tmp_path, capsys):
    assert cli.main(["train", "--preset", "tiny", "--out", str(tmp_path),
                     "--set", "model.nope=1"]) == EXIT_USAGE
    assert "model.nope" in capsys.readouterr().err


@pytest.mark.slow
def test_tiny_preset_learns(tmp_path):
    cfg = micro_config(**{"batch_size": 32, "eval_every": 30, "log_every": 10,
                          "model.iters": 6, "model.eval_iters": 8, "model.supervised_iters": 3,
                          "data.val_size": 32})
    run = RunDir(tmp_path / "tiny")
    run.create(cfg.to_dict())
    assert Trainer(cfg, run, steps=60, quiet=True).fit() == 0
    rows = [r for r in _rows(run.path) if "loss" in r]
    assert rows[-1]["loss"] < 0.6 * rows[0]["loss"]
    evals = [r for r in rows if "val_cell_acc" in r]
    assert evals[-1]["val_cell_acc"] > 0.3  # chance is 1/9 = 11.1%
    best = json.loads(run.state_path.read_text())["best"]
    assert best["val_cell_acc"] == max(r["val_cell_acc"] for r in evals if r["step"] ==
                                       best["step"])


@pytest.mark.slow
def test_sigterm_checkpoints_and_exits_zero(tmp_path):
    cmd = [sys.executable, "-m", "training", "--preset", "tiny", "--out", str(tmp_path),
           "--name", "sig", "--steps", "100000", "--quiet", *_overrides(MICRO_SET)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    metrics = tmp_path / "sig" / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.exists() and metrics.read_text().strip()):
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopped by SIGTERM" in err
    state = json.loads((tmp_path / "sig" / "state.json").read_text())
    assert state["state"] == "stopped"
    assert load_checkpoint(tmp_path / "sig" / "checkpoints" / "latest.pt")["step"] == state["step"]


@pytest.mark.slow
def test_torchrun_two_processes_on_gloo(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    cmd = [str(torchrun), "--nproc_per_node", "2", "-m", "training", "--preset", "tiny",
           "--device", "cpu", "--out", str(tmp_path), "--name", "ddp", "--steps", "4", "--quiet",
           *_overrides(MICRO_SET)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    state = json.loads((tmp_path / "ddp" / "state.json").read_text())
    assert state["state"] == "finished" and state["step"] == 4
    ck = load_checkpoint(tmp_path / "ddp" / "checkpoints" / "latest.pt")
    assert all(torch.isfinite(v).all() for v in ck["model"].values())
    assert not (tmp_path / "ddp-2").exists()  # only rank 0 made a run folder
