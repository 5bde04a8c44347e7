"""Schedule and checkpoint-selection regressions."""

import math

from training.trainer import is_better, lr_factor, warmup_steps


def test_warmup_capped_and_cosine_period_positive_for_a_10_step_run():
    assert warmup_steps(200, 10) <= 10 // 5
    factors = [lr_factor(s, 200, 10) for s in range(10)]
    assert all(math.isfinite(f) and f > 0 for f in factors)
    peak = max(factors)
    assert factors[-1] < peak  # the cosine actually decays
    assert lr_factor(0, 200, 1) > 0 and math.isfinite(lr_factor(5, 200, 1))  # total//5 == 0


def test_best_checkpoint_uses_accuracy_never_energy():
    best = {"val_puzzle_acc": 0.5, "val_cell_acc": 0.9, "energy_gap": 1.0, "loss_energy": 0.1}
    lower_energy = {"val_puzzle_acc": 0.4, "val_cell_acc": 0.95, "energy_gap": 9.0,
                    "loss_energy": 0.0001}
    assert not is_better(lower_energy, best)
    assert is_better({"val_puzzle_acc": 0.5, "val_cell_acc": 0.91, "loss_energy": 5.0}, best)
    assert is_better({"val_puzzle_acc": 0.6, "val_cell_acc": 0.1}, best)
    assert is_better({"val_puzzle_acc": 0.0, "val_cell_acc": 0.0}, None)
