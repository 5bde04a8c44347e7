"""The descent energy: closed-form gradient = autograd, the rule penalty, a step lowers E,
givens enforced, and E bounded below along a long descent."""

import math

import pytest
import torch

from model.energy import DescentEnergy, descent_step, enforce_givens, rule_penalty
from model.network import SudokuJEPA, puzzle_onehot
from model.units import unit_membership
from tests.model.test_network import SMALL, _batch


def _setup(cfg=SMALL, seed=0, dtype=torch.float32, blank_every=2):
    torch.manual_seed(seed)
    model = SudokuJEPA(cfg).to(dtype).eval()
    puzzle, sol = _batch(blank_every)
    givens = puzzle_onehot(puzzle).to(dtype)
    with torch.no_grad():
        z_context = model.encode(givens)[-1]
        x = model.energy.context_bias(z_context)
        s = model.start_state(z_context)
    return model, givens, x, s, puzzle, sol


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_gradient_equals_autograd(seed):
    model, givens, x, s, *_ = _setup(seed=seed, dtype=torch.float64)
    s = (s + 0.7 * torch.randn_like(s)).requires_grad_(True)  # away from s_0 too
    (auto,) = torch.autograd.grad(model.energy.energy(x, givens, s).sum(), s)
    energy, grad, probs = model.energy.energy_and_grad(x, givens, s)
    assert torch.allclose(grad, auto, rtol=1e-10, atol=1e-12)
    assert float(auto.abs().max()) > 0
    assert probs.shape == (1, 81, 9)


def test_closed_form_gradient_covers_every_term():
    """Each term alone (learned / quadratic / rules) also matches: none is silently dropped."""
    model, givens, x, s, *_ = _setup(seed=3, dtype=torch.float64)
    energy = model.energy
    s = (s + 0.5 * torch.randn_like(s)).requires_grad_(True)
    for quad, rule, w_scale in ((0.0, 0.0, 1.0), (2.0, 0.0, 0.0), (0.0, 3.0, 0.0)):
        energy.quad, energy.rule_weight = quad, rule
        with torch.no_grad():
            w = energy.w.clone()
            energy.w.mul_(w_scale)
        (auto,) = torch.autograd.grad(energy.energy(x, givens, s).sum(), s)
        _, grad, _ = energy.energy_and_grad(x, givens, s)
        assert float(auto.abs().max()) > 0, (quad, rule, w_scale)
        assert torch.allclose(grad, auto, rtol=1e-10, atol=1e-12), (quad, rule, w_scale)
        with torch.no_grad():
            energy.w.copy_(w)


def test_energy_and_grad_energy_equals_energy():
    model, givens, x, s, *_ = _setup(seed=1)
    s = s + 0.3 * torch.randn_like(s)
    with torch.no_grad():
        e1 = model.energy.energy(x, givens, s)
        e2, _, probs = model.energy.energy_and_grad(x, givens, s)
    assert e1.shape == e2.shape == (1,)
    assert torch.allclose(e1, e2, rtol=1e-5, atol=1e-4)
    assert torch.allclose(probs, torch.softmax(model.energy.logits(s, givens), -1))


def test_rule_penalty_is_zero_for_a_solution_and_positive_for_a_clash():
    unit_sum = unit_membership()
    _, sol = _batch()
    good = puzzle_onehot(sol)
    bad = good.clone()
    bad[0, 0] = torch.roll(bad[0, 0], 1)
    assert float(rule_penalty(good, unit_sum)) == 0.0
    assert float(rule_penalty(bad, unit_sum)) > 0.0
    uniform = torch.full((1, 81, 9), 1 / 9)  # undecided cells satisfy the sums too ...
    assert float(rule_penalty(uniform, unit_sum)) == pytest.approx(0.0, abs=1e-9)


def test_a_small_noise_free_step_lowers_the_energy():
    for seed in range(3):
        model, givens, x, s, *_ = _setup(seed=seed)
        with torch.no_grad():
            s1, e0, _ = descent_step(model.energy, x, givens, s, 1e-3, torch.zeros_like(s))
            e1 = model.energy.energy(x, givens, s1)
        assert float(e1) < float(e0), seed


def test_descent_step_is_the_update_and_measures_before_it():
    model, givens, x, s, *_ = _setup(seed=2)
    noise = 0.1 * torch.randn_like(s)
    with torch.no_grad():
        s1, e, probs = descent_step(model.energy, x, givens, s, 0.25, noise)
        e0, grad, p0 = model.energy.energy_and_grad(x, givens, s)
    assert torch.equal(e, e0) and torch.equal(probs, p0)
    assert torch.allclose(s1, s - 0.25 * grad + noise)


def test_givens_logits_are_enforced():
    model, givens, x, s, puzzle, _ = _setup()
    given = puzzle[0] > 0
    for state in (s, 100.0 * torch.randn_like(s)):  # whatever the state says
        with torch.no_grad():
            logits = model.energy.logits(state, givens)
        assert torch.equal(logits[0, given].argmax(-1) + 1, puzzle[0, given])
        probs = torch.softmax(logits, -1)
        assert float(probs[0, given].max(-1).values.min()) > 1 - 1e-6
    raw = torch.randn(1, 81, 9)
    enforced = enforce_givens(raw, givens)
    assert torch.equal(enforced[0, ~given], raw[0, ~given])  # empty cells untouched


@pytest.mark.parametrize("seed", [0, 1])
def test_energy_is_bounded_below_along_a_long_descent(seed):
    """500 noise-free steps of a random model at its default (learned) step size: finite,
    and the energy never falls below the bound the quadratic term gives."""
    model, givens, x, s, *_ = _setup(SMALL, seed=seed)
    eta = model.energy.step_size().detach()
    assert float(eta) == pytest.approx(SMALL.step_size)
    energy: DescentEnergy = model.energy
    # E = learned + quad/2 |s|^2 + rules with |d learned/ds| bounded: E grows like |s|^2, so a
    # stable descent settles; an unstable one blows up to inf / NaN
    energies = []
    with torch.no_grad():
        for _ in range(500):
            s, e, _ = descent_step(energy, x, givens, s, eta, torch.zeros_like(s))
            energies.append(float(e))
            assert math.isfinite(energies[-1]) and bool(torch.isfinite(s).all())
    final = float(energy.energy(x, givens, s))
    assert math.isfinite(final)
    assert final <= energies[0]  # the descent went down overall
    assert float(s.abs().max()) < 1e3
    tail = energies[-50:]
    assert max(tail) - min(tail) <= 1e-3 * (1.0 + abs(final))  # it settled: E has a floor
