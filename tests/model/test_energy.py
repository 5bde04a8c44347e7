"""Energies: the inference energy is the trained latent energy with the decode as solution."""

import torch

from model.energy import EnergyFunction, energy_gap, inference_energy, latent_energy
from model.network import SudokuJEPA, puzzle_onehot
from tests.model.test_network import SMALL, _batch


def test_inference_energy_is_the_trained_energy_when_the_decode_is_the_solution():
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL).eval()
    puzzle, sol = _batch()
    givens, sol1 = puzzle_onehot(puzzle), puzzle_onehot(sol)
    h = model.encode(givens)[-1]
    z = model.start_latent(h)
    model.decode = lambda zc, z_, g: sol1 * 200.0 - 100.0  # a perfect decoder
    energy, probs = inference_energy(model, h, givens, z)
    trained = latent_energy(model.predictor(h, z), model.target_latent(sol1))
    assert torch.allclose(energy, trained, atol=1e-4)  # constraint of a valid grid is 0
    assert torch.equal(probs.argmax(-1), sol1.argmax(-1))


def test_constraint_is_zero_for_a_solution_and_positive_for_a_clash():
    model = SudokuJEPA(SMALL)
    _, sol = _batch()
    good = puzzle_onehot(sol)
    bad = good.clone()
    bad[0, 0] = torch.roll(bad[0, 0], 1)
    assert float(model.constraint(good)) == 0.0
    assert float(model.constraint(bad)) > 0.0


def test_energy_function_module_matches_function_and_gap_is_finite():
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL).eval()
    puzzle, sol = _batch()
    givens = puzzle_onehot(puzzle)
    h = model.encode(givens)[-1]
    z = model.start_latent(h)
    e1, _ = EnergyFunction(model)(h, givens, z)
    e2, _ = inference_energy(model, h, givens, z)
    assert torch.equal(e1, e2) and e1.shape == (1,)
    gap = energy_gap(model, h, givens, puzzle_onehot(sol), generator=torch.Generator())
    assert torch.isfinite(torch.tensor(gap))
