"""Loss regressions: target layout, empty-cell-only decode loss, VICReg on z_context,
no gradient into the target encoder, the inference energy is the trained energy, and the
contrastive term sees the corrupted grid's target."""

import pytest
import torch

from model.energy import DescentEnergy
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


def _negative(sol: torch.Tensor) -> torch.Tensor:
    wrong = sol.clone()
    wrong[0, :8:2] = wrong[0, :8:2] % 9 + 1  # four cells changed
    return wrong


def _losses(model, steps=3, **kwargs):
    puzzle, sol = _batch()
    if model.cfg.jepa:
        kwargs.setdefault("negative", puzzle_onehot(_negative(sol)))
        kwargs["steps"] = steps
    out = model(puzzle_onehot(puzzle), puzzle_onehot(sol), **kwargs)
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
    _, losses = _losses(model, prefix=2, noise=0.05)
    losses["loss"].backward()
    assert all(p.grad is None for p in model.target_encoder.parameters())
    assert all(not p.requires_grad for p in model.target_encoder.parameters())
    with torch.no_grad():  # a plain gradient step on everything that has a gradient
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.1 * p.grad
    for b, p in zip(before, model.target_encoder.parameters(), strict=True):
        assert torch.equal(b, p)  # only ema_update moves it


def test_inference_uses_the_trained_energy(monkeypatch):
    """Training's forward, langevin_solve and the exported step all run
    DescentEnergy.energy_and_grad: forward's energies are energy_and_grad at its states, and
    the solver/export step calls exactly that method (no second, inference-only energy)."""
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL)
    puzzle, sol = _batch()
    givens = puzzle_onehot(puzzle)
    out = model(givens, puzzle_onehot(sol), steps=3, step_scale=1.0)
    with torch.no_grad():
        z_context = model.encode(givens)[-1]
        x = model.energy.context_bias(z_context)
        s = model.start_state(z_context)
        for t in range(4):
            e, grad, _ = model.energy.energy_and_grad(x, givens, s)
            assert torch.allclose(out["energies"][t], e, rtol=1e-5, atol=1e-5), t
            assert torch.allclose(out["energies"][t], model.energy.energy(x, givens, s),
                                  rtol=1e-5, atol=1e-4), t
            s = s - model.energy.step_size() * grad
    # the solver and the ONNX step graph call the same method
    from model import export, langevin

    calls = []
    real = DescentEnergy.energy_and_grad

    def spy(self, *args):
        calls.append(self)
        return real(self, *args)

    monkeypatch.setattr(DescentEnergy, "energy_and_grad", spy)
    r = langevin.langevin_solve(model.eval(), puzzle, steps=3, trace=True)
    assert len(calls) == 3 and all(c is model.energy for c in calls)  # one per step
    assert torch.allclose(r.energies[0][:, 0], out["energies"][0].detach(), rtol=1e-5)
    calls.clear()
    step = export._SolveStep(model)
    noise = torch.zeros_like(s)
    s_next, e, _ = step(x, puzzle, s, torch.tensor(0.3), noise)
    assert calls == [model.energy]
    e_ref, grad, _ = real(model.energy, x, givens, s)
    assert torch.allclose(e, e_ref) and torch.allclose(s_next, s - 0.3 * grad)


def test_contrastive_term_sees_the_target_of_the_corrupted_grid():
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL)
    puzzle, sol = _batch()
    out, losses = _losses(model)
    with torch.no_grad():
        x = model.energy.context_bias(out["z_context"])
        givens = puzzle_onehot(puzzle)
        wrong_target = model.target_state(puzzle_onehot(_negative(sol)))
        e_wrong = model.energy.energy(x, givens, wrong_target)
    assert not torch.allclose(wrong_target, out["z_target"])
    assert torch.allclose(out["energy_negative"], e_wrong, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(out["energy_negative"], out["energy_target"])
    gap = out["energy_negative"] - out["energy_target"]
    assert torch.allclose(losses["loss_contrastive"],
                          torch.nn.functional.softplus(1.0 - gap).mean())
    model.zero_grad()
    losses["loss_contrastive"].backward()
    for name, p in model.energy.named_parameters():
        if name.startswith(("context", "cell", "row", "col", "box", "w")):
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    # the same grid as negative: no gap, the term cannot be satisfied by a free margin
    same, _ = _losses(model, negative=puzzle_onehot(sol))
    assert torch.allclose(same["energy_negative"], same["energy_target"])


def test_every_component_is_logged_and_baseline_jepa_terms_are_zero():
    torch.manual_seed(0)
    _, losses = _losses(SudokuJEPA(SMALL))
    names = {"loss", "loss_ce", "loss_energy", "loss_vicreg", "loss_contrastive",
             "loss_descent", "loss_constraint", "loss_fit"}
    assert names <= set(losses)
    for name in names:
        assert losses[name].dim() == 0 and torch.isfinite(losses[name]), name
    assert float(losses["loss_energy"].detach()) > 0
    assert float(losses["loss_contrastive"].detach()) > 0
    assert float(losses["loss_descent"].detach()) >= 0
    w = LossWeights()
    total = (w.ce * losses["loss_ce"] + w.energy * losses["loss_energy"]
             + w.vicreg * losses["loss_vicreg"] + w.contrastive * losses["loss_contrastive"]
             + w.descent * losses["loss_descent"] + w.constraint * losses["loss_constraint"]
             + w.fit * losses["loss_fit"])
    assert torch.allclose(losses["loss"], total)
    _, base = _losses(SudokuJEPA(ModelConfig(**{**SMALL.to_dict(), "jepa": False})), iters=3)
    assert names <= set(base)
    for name in ("loss_energy", "loss_contrastive", "loss_descent", "loss_fit"):
        assert float(base[name].detach()) == 0.0, name
    assert float(base["loss_ce"].detach()) > 0


def test_descent_penalty_counts_only_energy_rises():
    model = SudokuJEPA(SMALL)
    puzzle, sol = _batch()
    base = {"logits": torch.zeros(3, 1, 81, 9), "z_context": torch.randn(1, 81, 16)}
    falling = compute_losses(model, {**base, "energies": torch.tensor([[3.0], [2.0], [1.0]])},
                             sol - 1, (puzzle == 0).float(), LossWeights())
    rising = compute_losses(model, {**base, "energies": torch.tensor([[1.0], [2.0], [1.5]])},
                            sol - 1, (puzzle == 0).float(), LossWeights())
    assert float(falling["loss_descent"]) == 0.0
    assert float(rising["loss_descent"]) == pytest.approx(0.5 / 81.0)
