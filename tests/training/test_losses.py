"""Loss regressions: target layout, empty-cell-only decode loss, VICReg on z_context,
no gradient into the target encoder, z normalised before the noise."""

import math

import torch

from model.network import ModelConfig, SudokuJEPA, puzzle_onehot
from tests.model.test_network import SMALL, SOLUTION, _batch
from training.losses import LossWeights, compute_losses, decode_cross_entropy, vicreg


def test_targets_use_row_col_digit_layout():
    sol = torch.as_tensor(SOLUTION).long().unsqueeze(0)  # (1, 81) digits 1..9
    target = sol - 1  # what the trainer feeds the loss
    onehot = puzzle_onehot(sol)  # (1, 81, 9): [row*9+col, digit]
    assert torch.equal(onehot.argmax(-1), target)
    empty = torch.ones(1, 81)
    right = decode_cross_entropy(onehot * 50.0, target, empty)
    wrong = decode_cross_entropy(onehot.transpose(1, 2).reshape(1, 81, 9) * 50.0, target, empty)
    assert float(right) < 1e-6 < float(wrong)


def test_decode_loss_ignores_given_cells():
    puzzle, sol = _batch()
    empty = (puzzle == 0).float()
    logits = torch.randn(2, 1, 81, 9)  # two supervised iterations
    base = decode_cross_entropy(logits, sol - 1, empty)
    changed = logits.clone()
    changed[:, :, puzzle[0] > 0] = torch.randn_like(changed[:, :, puzzle[0] > 0]) * 10
    assert torch.allclose(base, decode_cross_entropy(changed, sol - 1, empty))
    changed[:, :, puzzle[0] == 0] += torch.randn_like(changed[:, :, puzzle[0] == 0]) * 10
    assert not torch.allclose(base, decode_cross_entropy(changed, sol - 1, empty))


def test_vicreg_penalises_collapse():
    collapsed = torch.ones(4, 81, 8)
    spread = torch.randn(4, 81, 8) * 2
    assert float(vicreg(collapsed)[0]) > 0.9 > float(vicreg(spread)[0])


def _losses(model, sigma=0.5):
    puzzle, sol = _batch()
    out = model(puzzle_onehot(puzzle), puzzle_onehot(sol), torch.full((1,), sigma),
                torch.randn(1, 81, model.cfg.z_dim))
    return out, compute_losses(model, out, sol - 1, (puzzle == 0).float(), LossWeights())


def test_vicreg_reaches_the_context_encoder_and_the_target_encoder_gets_no_grad():
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL)
    _, losses = _losses(model)
    losses["loss_vicreg"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.context_encoder.parameters())
    model.zero_grad()
    before = [p.clone() for p in model.target_encoder.parameters()]
    _, losses = _losses(model)
    losses["loss"].backward()
    assert all(p.grad is None for p in model.target_encoder.parameters())
    with torch.no_grad():  # a plain gradient step on everything that has a gradient
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.1 * p.grad
    for b, p in zip(before, model.target_encoder.parameters(), strict=True):
        assert torch.equal(b, p)  # only ema_update moves it


def test_every_component_is_logged_and_baseline_has_zero_energy():
    torch.manual_seed(0)
    _, losses = _losses(SudokuJEPA(SMALL))
    assert {"loss", "loss_energy", "loss_vicreg", "loss_ce", "loss_constraint"} <= set(losses)
    assert float(losses["loss_energy"].detach()) > 0
    _, base = _losses(SudokuJEPA(ModelConfig(**{**SMALL.to_dict(), "jepa": False})))
    assert float(base["loss_energy"].detach()) == 0.0


def test_latent_is_normalised_before_the_noise():
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL)
    puzzle, sol = _batch()
    noise = torch.randn(1, 81, SMALL.z_dim)
    sigma = torch.full((1,), 0.7)
    out = model(puzzle_onehot(puzzle), puzzle_onehot(sol), sigma, noise)
    z_t = out["z_target"]
    assert torch.allclose(z_t.norm(dim=-1), torch.ones(1, 81), atol=1e-3)
    h = out["z_context"]
    z_noisy = z_t + 0.7 * noise / math.sqrt(SMALL.z_dim)
    assert torch.allclose(out["z_pred"], model.predictor(h, z_noisy), atol=1e-6)
