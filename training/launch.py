"""`sudoku-jepa train` / `sudoku-jepa eval` and `torchrun -m training`: arguments and launch.

Kept apart from `training/cli.py` so the CLI module stays torch-free until a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.exit_codes import EXIT_INPUT, EXIT_MODEL, EXIT_OK, EXIT_USAGE, fail


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", choices=("tiny", "cpu", "cpu-descent", "gpu"), default="cpu",
                   help="base recipe (default cpu): tiny = < 1 minute smoke run, cpu = the shipped "
                   "model (70 min on 2 cores), cpu-descent = the gradient-descent family at the "
                   "same size, gpu = full scale on one GPU")
    p.add_argument("--config", metavar="FILE", help="JSON file of config overrides")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set model.d_model=64 (repeatable; with "
                   "--resume: on top of the run's stored config, e.g. a new loss weight)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="device to train on: auto (CUDA when present), cpu or cuda (default: the "
                   "config's)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its latest.pt")
    p.add_argument("--out", default="runs", metavar="DIR",
                   help="folder the run folder is created in (default: runs)")
    p.add_argument("--name", help="run folder name (default: the preset; -2, -3... if taken)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="train exactly N steps (total)")
    budget.add_argument("--minutes", type=float, help="wall-clock budget of this process")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def train_command(args: argparse.Namespace) -> int:
    import torch.distributed as dist

    from training.data import DataError
    from training.presets import (
        TrainConfig,
        apply_overrides,
        load_config_file,
        parse_set,
        preset,
    )
    from training.presets import _flatten as flatten
    from training.run import CheckpointError, RunDir, unique_run_path
    from training.trainer import Trainer, load_resume, setup_distributed

    ck = None
    run = None
    if args.resume:
        try:
            run, ck = load_resume(args.resume)
            cfg = TrainConfig.from_dict(ck["config"])
        except (CheckpointError, ValueError) as exc:  # ValueError: a config this code rejects
            return fail("train", str(exc), EXIT_MODEL)
        try:  # e.g. a new loss weight when fine-tuning
            apply_overrides(cfg, parse_set(args.set))
        except ValueError as exc:
            return fail("train", str(exc), EXIT_USAGE)
    else:
        try:
            file_overrides = flatten(load_config_file(args.config)) if args.config else {}
        except ValueError as exc:
            return fail("train", str(exc), EXIT_INPUT)
        try:
            cfg = preset(args.preset)
            apply_overrides(cfg, file_overrides)
            apply_overrides(cfg, parse_set(args.set))
        except ValueError as exc:
            return fail("train", str(exc), EXIT_USAGE)
    if args.device:
        cfg.device = args.device
    if args.steps is not None and args.steps < 1:
        return fail("train", f"--steps must be >= 1, got {args.steps}", EXIT_USAGE)
    dist_info = setup_distributed(cfg.device)
    try:
        if dist_info.main:
            if run is None:
                run = RunDir(unique_run_path(args.out, args.name or args.preset))
                run.create(cfg.to_dict())
            else:
                run.truncate_metrics_after(ck["step"])
                run.log(f"resumed from {run.latest} at step {ck['step']}")
            print(f"sudoku-jepa train: run folder {run.path}", file=sys.stderr)
        try:
            trainer = Trainer(cfg, run if dist_info.main else None, resume=ck,
                              dist_info=dist_info, quiet=args.quiet, steps=args.steps)
        except CheckpointError as exc:  # weights that do not fit this model
            return fail("train", str(exc), EXIT_MODEL)
        except DataError as exc:  # a dataset file named in the config
            return fail("train", str(exc), EXIT_INPUT)
        except ValueError as exc:  # e.g. --device cuda without a GPU
            return fail("train", str(exc), EXIT_USAGE)
        if ck is not None and args.minutes is None and args.steps is None:
            trainer.fixed_steps = True  # finish the schedule the run already had
        return trainer.fit(minutes=args.minutes)
    finally:
        if dist_info.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="training checkpoint to score, e.g. runs/<name>/checkpoints/best.pt")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="puzzle files: puzzle,solution CSV or one puzzle a line")
    p.add_argument("--limit", type=int, default=None, help="first N puzzles of each file")
    p.add_argument("--steps", default="1,4,16,64,256,1024", metavar="N,N,...",
                   help="test-time step counts to score, each its own solve (solve steps; "
                   "encoder iterations for a jepa=false baseline). Default: %(default)s")
    p.add_argument("--chains", type=int, default=1,
                   help="chains per puzzle; the lowest energy wins (default: 1)")
    p.add_argument("--noise", type=float, default=0.0,
                   help="chain noise, annealed to 0 over the steps (default: 0, noise-free)")
    p.add_argument("--step-size", type=float, default=None,
                   help="step size of each solve step (default: the model's)")
    p.add_argument("--reject-rises", action="store_true",
                   help="refuse a step that raises a chain's energy: the chain stays where it "
                   "was (default: every step is taken)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="device to evaluate on: auto (CUDA when present), cpu or cuda "
                   "(default: auto)")
    p.add_argument("--json", action="store_true", help="one JSON object per file and step count")


def eval_command(args: argparse.Namespace) -> int:
    from model.checkpoint import model_from_checkpoint
    from training.data import DataError, read_dataset
    from training.evaluation import steps_table
    from training.run import CheckpointError, load_checkpoint
    from training.trainer import pick_device

    try:
        steps = tuple(int(n) for n in str(args.steps).split(","))
        if min(steps) < 1:
            raise ValueError
    except ValueError:
        return fail("eval", f"--steps wants step counts >= 1 like 1,4,16, got {args.steps!r}",
                    EXIT_USAGE)
    try:
        model = model_from_checkpoint(load_checkpoint(args.checkpoint), args.checkpoint)
    except CheckpointError as exc:
        return fail("eval", str(exc), EXIT_MODEL)
    try:
        device = pick_device(args.device)
    except ValueError as exc:
        return fail("eval", str(exc), EXIT_USAGE)
    model.to(device).eval()
    status = EXIT_OK
    for path in args.files:
        try:
            puzzles, solutions = read_dataset(path, limit=args.limit)
        except DataError as exc:  # the other files are still scored
            fail("eval", str(exc), EXIT_INPUT)
            status = EXIT_INPUT
            continue
        rows = steps_table(model, puzzles, solutions, steps, chains=args.chains,
                           noise=args.noise, step_size=args.step_size,
                           reject_rises=args.reject_rises)
        for row in rows:
            row = {"file": str(path), "chains": args.chains, "noise": args.noise,
                   "reject_rises": args.reject_rises, **row}
            if args.json:
                print(json.dumps(row), flush=True)
                continue
            extra = "" if row.get("ms_per_puzzle") is None else \
                f", {row['ms_per_puzzle']:.1f} ms/puzzle"
            if row.get("energy_rise_frac") is not None:
                extra += (f", energy rose on {row['energy_rise_frac']:.2%} of steps, "
                          f"{row['rejected_frac']:.2%} of moves refused")
            if "energy_auroc" in row:
                auc = row["energy_auroc"]
                extra += ", AUROC " + ("n/a" if auc is None else f"{auc:.3f}")
            print(f"{Path(path).name}: {row['puzzles']} puzzles, {row['steps']} steps x "
                  f"{args.chains} chains: puzzle {row['puzzle_acc']:.2%}, cell "
                  f"{row['cell_acc']:.2%}{extra}", flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    """`python -m training ...` / `torchrun --nproc_per_node N -m training ...` = train."""
    parser = argparse.ArgumentParser(prog="python -m training", description="train a model")
    add_train_arguments(parser)
    return train_command(parser.parse_args(argv))
