"""Langevin: a pure, normalised step; the solver keeps givens and picks the lowest energy."""

import torch

from model.energy import EnergyFunction
from model.langevin import langevin_solve, langevin_step, noise_schedule
from model.network import ModelConfig, SudokuJEPA, puzzle_onehot
from tests.model.test_network import SMALL, _batch


def _setup():
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL).eval()
    puzzle, _ = _batch()
    givens = puzzle_onehot(puzzle)
    h = model.encode(givens)[-1]
    fn = EnergyFunction(model)
    return model, fn, dict(fn.named_parameters()), h, givens, model.start_latent(h)


def test_step_is_pure_and_normalised():
    _, fn, params, h, givens, z = _setup()
    noise = torch.randn_like(z) * 0.1
    a = langevin_step(params, fn, h, givens, z, 0.5, noise)
    b = langevin_step(params, fn, h, givens, z, 0.5, noise)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    z_new, energy, probs = a
    assert torch.allclose(z_new.norm(dim=-1), torch.ones(1, 81), atol=1e-3)
    assert energy.shape == (1,) and probs.shape == (1, 81, 9)


def test_small_noiseless_step_lowers_the_energy():
    _, fn, params, h, givens, z = _setup()
    z1, e0, _ = langevin_step(params, fn, h, givens, z, 1e-3, torch.zeros_like(z))
    _, e1, _ = langevin_step(params, fn, h, givens, z1, 1e-3, torch.zeros_like(z))
    assert float(e1.detach()) < float(e0.detach())


def test_solve_keeps_givens_and_returns_lowest_energy_state():
    model, *_ = _setup()
    puzzle, _ = _batch()
    r = langevin_solve(model, puzzle, steps=3, chains=3, seed=1, trace=True)
    given = puzzle[0] > 0
    assert torch.equal(r.grid[0, given], puzzle[0, given])
    assert len(r.energies) == 4 and r.energies[0].shape == (1, 3)
    assert float(r.energy[0]) == float(torch.stack(r.energies).min())
    again = langevin_solve(model, puzzle, steps=3, chains=3, seed=1)
    assert torch.equal(again.grid, r.grid)


def test_noise_is_annealed_to_zero():
    assert noise_schedule(0, 10, 0.3) == 0.3
    assert noise_schedule(10, 10, 0.3) == 0.0


def test_baseline_cannot_descend():
    import pytest

    model = SudokuJEPA(ModelConfig(**{**SMALL.to_dict(), "jepa": False}))
    with pytest.raises(ValueError, match="baseline"):
        langevin_solve(model, _batch()[0], steps=1, chains=1)
