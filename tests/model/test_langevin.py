"""The solve: keeps givens, lowest energy wins, deterministic per seed, chain 0 clean, noise
annealed to zero, the baseline refused."""

import math

import pytest
import torch

from model.energy import descent_step
from model.langevin import langevin_solve, noise_schedule
from model.network import ModelConfig, SudokuJEPA, puzzle_onehot
from tests.model.test_network import SMALL, _batch


def _model(seed: int = 0) -> SudokuJEPA:
    torch.manual_seed(seed)
    return SudokuJEPA(SMALL).eval()


def _puzzles():
    a, _ = _batch(2)
    b, _ = _batch(3)
    return torch.cat([a, b])  # (2, 81)


def test_solve_keeps_givens_and_returns_lowest_energy_state():
    model = _model()
    puzzle = _puzzles()
    r = langevin_solve(model, puzzle, steps=5, chains=3, noise=0.5, seed=1, trace=True)
    given = puzzle > 0
    assert torch.equal(r.grid[given], puzzle[given])
    assert len(r.energies) == 6 and r.energies[0].shape == (2, 3)
    assert len(r.trace_probs) == 6 and r.trace_probs[0].shape == (2, 3, 81, 9)
    all_e = torch.stack(r.energies)  # (T + 1, B, C)
    for b in range(2):
        assert float(r.energy[b]) == float(all_e[:, b].min())
        t, c = int(r.best_step[b]), int(r.best_chain[b])
        assert float(all_e[t, b, c]) == float(r.energy[b])
        assert torch.equal(r.probs[b], r.trace_probs[t][b, c])  # the winner's state, not the last
        assert torch.equal(r.grid[b], r.probs[b].argmax(-1) + 1)


def test_solve_is_deterministic_per_seed():
    model = _model()
    puzzle = _puzzles()
    a = langevin_solve(model, puzzle, steps=4, chains=3, noise=0.5, seed=1, trace=True)
    b = langevin_solve(model, puzzle, steps=4, chains=3, noise=0.5, seed=1, trace=True)
    c = langevin_solve(model, puzzle, steps=4, chains=3, noise=0.5, seed=2, trace=True)
    for x, y in zip(a.energies, b.energies, strict=True):
        assert torch.equal(x, y)
    assert torch.equal(a.grid, b.grid) and torch.equal(a.energy, b.energy)
    assert any(not torch.equal(x[:, 1:], y[:, 1:])
               for x, y in zip(a.energies, c.energies, strict=True))
    # no trace: the same winner
    d = langevin_solve(model, puzzle, steps=4, chains=3, noise=0.5, seed=1)
    assert torch.equal(d.grid, a.grid) and torch.equal(d.energy, a.energy)
    assert len(d.energies) == 5 and d.trace_probs == []  # energies always, probs with trace


def test_chain_zero_starts_clean_and_is_the_noise_free_descent():
    """Chain 0 gets no start noise; with noise 0 every chain is chain 0, which is plain descent
    from s_0 at the learned step size."""
    model = _model()
    puzzle = _puzzles()
    noisy = langevin_solve(model, puzzle, steps=3, chains=4, noise=0.8, seed=3, trace=True)
    clean = langevin_solve(model, puzzle, steps=3, chains=1, noise=0.0, trace=True)
    # step 0 is measured before any update: chain 0 equals the clean start, others differ
    assert torch.allclose(noisy.energies[0][:, 0], clean.energies[0][:, 0])
    assert not torch.allclose(noisy.energies[0][:, 1:], clean.energies[0][:, :1].expand(-1, 3))
    with torch.no_grad():
        givens = puzzle_onehot(puzzle)
        z = model.encode(givens)[-1]
        x = model.energy.context_bias(z)
        s = model.start_state(z)
        eta = model.energy.step_size()
        for t in range(3):
            s, e, _ = descent_step(model.energy, x, givens, s, eta, torch.zeros_like(s))
            assert torch.allclose(clean.energies[t][:, 0], e, rtol=1e-5, atol=1e-5)
        final = model.energy.energy(x, givens, s)
    assert torch.allclose(clean.energies[3][:, 0], final, rtol=1e-5, atol=1e-4)
    zero_noise = langevin_solve(model, puzzle, steps=3, chains=3, noise=0.0, trace=True)
    for e in zero_noise.energies:  # no noise: every chain is chain 0
        assert torch.allclose(e, e[:, :1].expand(-1, 3))


def test_noise_is_annealed_to_zero():
    assert noise_schedule(0, 10, 0.3) == 0.3
    assert noise_schedule(5, 10, 0.3) == pytest.approx(0.15)
    assert noise_schedule(10, 10, 0.3) == 0.0
    levels = [noise_schedule(t, 8, 0.5) for t in range(9)]
    assert all(a > b for a, b in zip(levels, levels[1:], strict=False))
    assert noise_schedule(0, 0, 0.3) == 0.3 and math.isfinite(noise_schedule(3, 0, 0.3))


def test_last_step_noise_is_small_so_the_end_is_a_descent():
    """The annealed chain ends like the noise-free one: its last update adds noise of level
    noise / steps (schedule at t = steps - 1), not the full level."""
    assert noise_schedule(9, 10, 1.0) == pytest.approx(0.1)


def test_baseline_cannot_descend():
    model = SudokuJEPA(ModelConfig(**{**SMALL.to_dict(), "jepa": False}))
    with pytest.raises(ValueError, match="baseline"):
        langevin_solve(model, _batch()[0], steps=1, chains=1)
