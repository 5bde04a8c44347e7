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
    m = cfg.model  # the energy model: descent steps (trained count, eval_steps, 4x eval_steps)
    choices = sorted({m.steps, m.eval_steps, 4 * m.eval_steps})
    assert m.jepa and iteration_choices(m) == choices
    base = micro_config(**{"model.jepa": False}).model  # the baseline: encoder iterations
    assert iteration_choices(base) == sorted({base.iters, base.eval_iters, 2 * base.eval_iters})
    run = RunDir(tmp_path / "r")
    run.create(cfg.to_dict())
    trainer = Trainer(cfg, run, steps=4, quiet=True)
    assert trainer.fit() == 0
    row = evaluate_choices(trainer.model, trainer.val_sets, torch.device("cpu"), choices)
    key = (row["val_puzzle_acc"], row["val_cell_acc"])
    assert all(key >= (row[f"val_puzzle_acc_at_{n}"], row[f"val_cell_acc_at_{n}"])
               for n in choices)
    assert row["val_iters"] in choices
    ck = load_checkpoint(run.best)
    assert ck["best"]["val_iters"] in choices
    assert ck["model_config"]["eval_steps"] == ck["best"]["val_iters"]  # saved as descent steps


def test_steps_table_reports_accuracy_and_energy_monitors_per_step_count():
    import numpy as np
    import torch

    from model.generator import generate_puzzles
    from model.network import SudokuJEPA
    from tests.model.test_network import BASELINE, SMALL
    from training.evaluation import steps_table

    generated = generate_puzzles(3, givens=(34, 40), seed=3)
    puzzles = np.stack([g.puzzle for g in generated])
    solutions = np.stack([g.solution for g in generated])
    torch.manual_seed(0)
    model = SudokuJEPA(SMALL).eval()
    rows = steps_table(model, puzzles, solutions, steps=(1, 4), chains=2, noise=0.1, batch=2)
    assert [r["steps"] for r in rows] == [1, 4]
    for r in rows:
        assert r["puzzles"] == 3
        assert 0.0 <= r["puzzle_acc"] <= 1.0 and 0.0 <= r["cell_acc"] <= 1.0
        assert 0.0 <= r["energy_rise_frac"] <= 1.0
        assert r["energy_auroc"] is None or 0.0 <= r["energy_auroc"] <= 1.0
        assert r["ms_per_puzzle"] > 0
    # a perfect "solver" has no wrong grid: AUROC undefined (None), accuracy 1
    solved = steps_table(model, solutions, solutions, steps=(2,))
    assert solved[0]["puzzle_acc"] == 1.0 and solved[0]["energy_auroc"] is None
    base = steps_table(SudokuJEPA(BASELINE).eval(), puzzles, solutions, steps=(2,))
    assert 0.0 <= base[0]["puzzle_acc"] <= 1.0 and "energy_auroc" not in base[0]
