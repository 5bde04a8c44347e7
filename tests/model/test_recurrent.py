"""The recurrent model (family B): its step is the encoder's own update, its energy is measured
and fitted, and its ONNX export runs the same solve as torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.export import export_model
from model.generator import generate_puzzles
from model.langevin import langevin_solve
from model.network import ModelConfig, SudokuJEPA, puzzle_onehot
from model.runtime import EnergyModel
from training.losses import LossWeights, compute_losses
from training.trainer import corrupt

RECURRENT = ModelConfig(update="recurrent", d_model=16, mlp_hidden=32, encoder_layers=1,
                        z_dim=16, energy_hidden=16, quad=0.0, steps=3, steps_jitter=1,
                        prefix_steps=0, eval_steps=5, noise=1.0)


@pytest.fixture(scope="module")
def model() -> SudokuJEPA:
    torch.manual_seed(0)
    return SudokuJEPA(RECURRENT).eval()


@pytest.fixture(scope="module")
def puzzles() -> torch.Tensor:
    return torch.as_tensor(np.stack([g.puzzle for g in generate_puzzles(3, givens=(30, 36),
                                                                          seed=11)])).long()


def test_step_is_the_encoders_update_and_step_size_one_is_exact(model, puzzles):
    givens = puzzle_onehot(puzzles)
    _, context, s = model.prepare(givens)
    x_mix = context[..., :RECURRENT.mlp_hidden]
    s_next, energy, probs = model.solve_step(context, givens, s, 1.0, torch.zeros_like(s))
    assert torch.allclose(s_next, model.context_encoder.update(s, x_mix), atol=1e-6)
    assert energy.shape == (3,) and probs.shape == (3, 81, 9)
    half, _, _ = model.solve_step(context, givens, s, 0.5, torch.zeros_like(s))
    assert torch.allclose(half, 0.5 * (s + s_next), atol=1e-6)


def test_training_outputs_fit_the_energy_to_the_latent_distance(model, puzzles):
    sol = torch.as_tensor(np.stack([g.solution for g in generate_puzzles(3, givens=(30, 36),
                                                                         seed=11)])).long()
    model.train()
    out = model(puzzle_onehot(puzzles), puzzle_onehot(sol), steps=3, noise=0.5,
                negative=puzzle_onehot(corrupt(sol, puzzles, 4)))
    model.eval()
    assert out["logits"].shape == (4, 3, 81, 9) and out["energies"].shape[0] == 4
    pred, dist = out["fit"]
    assert pred.shape == dist.shape and float(dist.detach().min()) >= 0.0
    losses = compute_losses(model, out, sol - 1, (puzzles == 0).float(), LossWeights())
    assert float(losses["loss_fit"].detach()) > 0.0
    losses["loss_fit"].backward()
    assert model.energy.w.grad is not None and float(model.energy.w.grad.abs().sum()) > 0
    # the fit trains the energy head only: the dynamics get no gradient from it
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0.0
               for p in model.context_encoder.parameters())
    model.zero_grad()


def test_onnx_solve_matches_torch(model, puzzles, tmp_path):
    path = export_model(model, tmp_path / "recurrent.onnx", run_name="recurrent-test")
    onnx_model = EnergyModel.load(path, provider="cpu")
    settings = onnx_model.default_settings()
    assert settings.step_size == 1.0 and settings.steps == RECURRENT.eval_steps
    settings.noise, settings.chains = 0.0, 2
    for p in puzzles:
        ref = langevin_solve(model, p[None], steps=settings.steps, chains=2, noise=0.0)
        got = onnx_model.solve(p.numpy().astype(np.int8), settings, trace=True)
        assert np.array_equal(got.grid, ref.grid[0].numpy())
        assert got.energy == pytest.approx(float(ref.energy[0]), rel=1e-4, abs=1e-4)
        assert len(got.trace) == settings.steps + 1
        assert {"energy", "conflicts", "decided"} <= set(got.trace[0])


def test_refusing_rises_keeps_every_shown_energy_from_rising(model, puzzles, tmp_path):
    path = export_model(model, tmp_path / "recurrent.onnx", run_name="recurrent-test")
    onnx_model = EnergyModel.load(path, provider="cpu")
    settings = onnx_model.default_settings()
    assert settings.reject_rises is False  # off unless the model file asks for it
    settings.noise, settings.chains, settings.steps, settings.reject_rises = 0.5, 3, 12, True
    for p in puzzles:
        result = onnx_model.solve(p.numpy().astype(np.int8), settings, trace=True)
        energies = [row["energy"] for row in result.trace]
        assert all(b <= a for a, b in zip(energies, energies[1:], strict=False))
        settings.noise = 0.0
        ref = langevin_solve(model, p[None], steps=12, chains=3, noise=0.0, reject_rises=True)
        got = onnx_model.solve(p.numpy().astype(np.int8), settings)
        assert np.array_equal(got.grid, ref.grid[0].numpy())
        assert got.rejected_steps == int(ref.rejected[0])
        settings.noise = 0.5


def test_a_solve_continues_from_its_last_states(model, puzzles, tmp_path):
    path = export_model(model, tmp_path / "recurrent.onnx", run_name="recurrent-test")
    onnx_model = EnergyModel.load(path, provider="cpu")
    settings = onnx_model.default_settings()
    settings.noise, settings.chains, settings.steps = 0.0, 2, 6
    puzzle = puzzles[0].numpy().astype(np.int8)
    first = list(onnx_model.descend(puzzle, settings))
    assert first[-1].states is not None and first[0].states is None
    settings.steps = 4
    more = list(onnx_model.descend(puzzle, settings, start=first[-1].states))
    settings.steps = 10
    straight = list(onnx_model.descend(puzzle, settings))
    assert np.allclose(more[-1].energies, straight[-1].energies, rtol=1e-4, atol=1e-4)
    assert np.array_equal(more[-1].grid, straight[-1].grid)
