"""The network: shapes, givens enforced, inputs, target encoder isolation and EMA."""

import numpy as np
import pytest
import torch

from model.board import UNITS
from model.network import (
    ModelConfig,
    SudokuJEPA,
    candidate_features,
    ema_momentum,
    ema_update,
    peer_adjacency,
    puzzle_onehot,
    unit_membership,
)

SMALL = ModelConfig(d_model=16, mlp_hidden=32, encoder_layers=1, z_dim=8, energy_hidden=16,
                    steps=3, steps_jitter=1, prefix_steps=2, eval_steps=4, iters=3, eval_iters=4,
                    supervised_iters=2)
BASELINE = ModelConfig(**{**SMALL.to_dict(), "jepa": False})
SOLUTION = np.array([int(c) for c in (
    "534678912672195348198342567859761423426853791713924856961537284287419635345286179")])


def _batch(blank_every: int = 2):
    sol = torch.as_tensor(SOLUTION).long().unsqueeze(0)  # (1, 81)
    puzzle = sol.clone()
    puzzle[:, ::blank_every] = 0
    return puzzle, sol


def test_unit_membership_matches_board_units():
    m = unit_membership()
    assert m.shape == (27, 81)
    for u, cells in enumerate(UNITS):
        assert set(torch.nonzero(m[u]).flatten().tolist()) == set(cells.tolist())
    assert (peer_adjacency().sum(1) == 20).all()


def test_candidate_features_mark_digits_not_used_by_peers():
    puzzle, sol = _batch()
    feats = candidate_features(puzzle_onehot(puzzle), peer_adjacency())  # (1, 81, 18)
    cand = feats[0, :, 9:]
    assert cand[0].sum() >= 1 and cand[0, SOLUTION[0] - 1] == 1  # the answer stays a candidate
    full = candidate_features(puzzle_onehot(sol), peer_adjacency())
    assert torch.equal(full[..., :9], full[..., 9:])  # a full grid: digits == candidates


def test_forward_shapes_and_givens_enforced():
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL)
    puzzle, sol = _batch()
    negative = sol.clone()
    negative[0, 0] = negative[0, 0] % 9 + 1
    out = model(puzzle_onehot(puzzle), puzzle_onehot(sol), steps=3, prefix=2, step_scale=0.9,
                noise=0.05, negative=puzzle_onehot(negative))
    assert out["z_context"].shape == (1, 81, 16)
    assert out["logits"].shape == (4, 1, 81, 9)  # T + 1 decodes: s_0 .. s_T
    assert out["energies"].shape == (4, 1)
    assert out["z_final"].shape == out["z_target"].shape == (1, 81, 8)
    assert out["energy_target"].shape == out["energy_negative"].shape == (1,)
    given = puzzle[0] > 0
    for logits in out["logits"]:  # every step's decode keeps the givens
        assert torch.equal(logits[0, given].argmax(-1) + 1, puzzle[0, given])
    assert not out["z_target"].requires_grad  # s* is a target: no gradient
    # without a solution: no target terms; default step count from the config
    plain = model(puzzle_onehot(puzzle))
    assert plain["logits"].shape == (SMALL.steps + 1, 1, 81, 9)
    assert not {"z_target", "energy_target", "energy_negative"} & set(plain)


def test_forward_steps_are_the_descent_of_the_energy():
    """The logits of step t decode s_t, and s_{t+1} = s_t - eta * dE/ds (noise-free)."""
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL)
    puzzle, _ = _batch()
    givens = puzzle_onehot(puzzle)
    out = model(givens, steps=2, step_scale=0.5)
    with torch.no_grad():
        z_context = model.encode(givens)[-1]
        x = model.energy.context_bias(z_context)
        s = model.start_state(z_context)
        eta = model.energy.step_size() * 0.5
        for t in range(3):
            e, grad, _ = model.energy.energy_and_grad(x, givens, s)
            assert torch.allclose(out["energies"][t], e, rtol=1e-5, atol=1e-5)
            assert torch.allclose(out["logits"][t], model.energy.logits(s, givens), atol=1e-5)
            if t < 2:
                s = s - eta * grad
    assert torch.allclose(out["z_final"], s, atol=1e-5)


def test_baseline_forward_decodes_the_last_iterations():
    model = SudokuJEPA(BASELINE)
    puzzle, sol = _batch()
    out = model(puzzle_onehot(puzzle), puzzle_onehot(sol), iters=3)
    assert out["z_context"].shape == (1, 81, 16)
    assert out["logits"].shape == (BASELINE.supervised_iters, 1, 81, 9)
    given = puzzle[0] > 0
    assert torch.equal(out["logits"][-1, 0, given].argmax(-1) + 1, puzzle[0, given])
    assert not hasattr(model, "target_encoder") and not hasattr(model, "energy")


def test_context_encoder_is_shallow():
    """No hidden encoder reasons before step 1: the JEPA encoder runs `encoder_layers`."""
    model = SudokuJEPA(SMALL)
    calls = []
    original = model.context_encoder.forward

    def spy(features, iters, keep=1):
        calls.append(iters)
        return original(features, iters, keep)

    model.context_encoder.forward = spy
    model.encode(puzzle_onehot(_batch()[0]), iters=50)
    assert calls == [SMALL.encoder_layers]


def test_target_encoder_has_no_grad_and_starts_as_copy():
    model = SudokuJEPA(SMALL)
    for (n1, p1), (_, p2) in zip(model.context_encoder.named_parameters(),
                                 model.target_encoder.named_parameters(), strict=True):
        assert not p2.requires_grad, n1
        assert torch.equal(p1, p2)


def test_ema_update_moves_target_towards_online():
    model = SudokuJEPA(SMALL)
    with torch.no_grad():
        for p in model.context_encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.target_encoder.parameters()]
    online = list(model.context_encoder.parameters())
    ema_update(model.target_encoder, model.context_encoder, 0.9)
    for b, t, o in zip(before, model.target_encoder.parameters(), online, strict=True):
        assert torch.allclose(t, 0.9 * b + 0.1 * o)


def test_ema_momentum_schedule_is_resumable_ramp():
    assert ema_momentum(0, 100) == pytest.approx(0.996)
    assert ema_momentum(100, 100) == pytest.approx(1.0)
    assert ema_momentum(50, 100) == pytest.approx(ema_momentum(50, 100))  # pure in step
    assert 0.996 < ema_momentum(50, 100) < 1.0


def test_config_round_trip_ignores_unknown_keys():
    cfg = ModelConfig.from_dict({**SMALL.to_dict(), "future_key": 1})
    assert cfg == SMALL
