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


def test_validation_picks_the_best_iteration_count_and_checkpoints_it(tmp_path):
    import torch

    from training.run import RunDir, load_checkpoint
    from training.trainer import Trainer, evaluate_choices, iteration_choices

    from .conftest import micro_config

    cfg = micro_config()
    assert iteration_choices(cfg.model) == [3, 6]  # trained count, eval_iters, 2x eval_iters
    run = RunDir(tmp_path / "r")
    run.create(cfg.to_dict())
    trainer = Trainer(cfg, run, steps=4, quiet=True)
    assert trainer.fit() == 0
    row = evaluate_choices(trainer.model, trainer.val_sets, torch.device("cpu"), [3, 6])
    key = (row["val_puzzle_acc"], row["val_cell_acc"])
    assert all(key >= (row[f"val_puzzle_acc_at_{n}"], row[f"val_cell_acc_at_{n}"])
               for n in (3, 6))
    ck = load_checkpoint(run.best)
    assert ck["model_config"]["eval_iters"] == ck["best"]["val_iters"]
