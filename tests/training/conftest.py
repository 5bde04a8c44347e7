"""Shared tiny configs for the training tests (fast on 2 busy cores)."""

import pytest

from training.presets import TrainConfig, apply_overrides, preset


def micro_config(**overrides) -> TrainConfig:
    """Smaller than the tiny preset: a handful of steps in a few seconds."""
    cfg = preset("tiny")
    apply_overrides(cfg, {"batch_size": 8, "data.val_size": 16, "energy_gap_size": 8,
                          "eval_every": 4, "log_every": 2, "export": False, "threads": 1,
                          "model.iters": 3, "model.eval_iters": 3, "model.supervised_iters": 2,
                          **overrides})
    return cfg


@pytest.fixture
def micro():
    return micro_config
