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

SMALL = ModelConfig(d_model=16, mlp_hidden=32, iters=3, eval_iters=4, supervised_iters=2,
                    z_dim=8, target_iters=1, head_hidden=16)
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


@pytest.mark.parametrize("cfg", [SMALL, ModelConfig(**{**SMALL.to_dict(), "jepa": False}),
                                 ModelConfig(**{**SMALL.to_dict(), "encoder": "transformer",
                                                "layers": 2, "heads": 2})])
def test_forward_shapes_and_givens_enforced(cfg):
    model = SudokuJEPA(cfg)
    puzzle, sol = _batch()
    out = model(puzzle_onehot(puzzle), puzzle_onehot(sol), torch.rand(1), torch.randn(1, 81, 8))
    assert out["z_context"].shape == (1, 81, 16)
    logits = out["logits"][-1]  # (1, 81, 9)
    given = puzzle[0] > 0
    assert torch.equal(logits[0, given].argmax(-1) + 1, puzzle[0, given])
    if cfg.jepa:
        assert out["z_pred"].shape == out["z_target"].shape == (1, 81, 8)
        assert torch.allclose(out["z_target"].norm(dim=-1), torch.ones(1, 81), atol=1e-3)
    else:
        assert not hasattr(model, "target_encoder") and not hasattr(model, "predictor")


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
