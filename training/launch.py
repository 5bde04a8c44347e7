"""`sudoku-jepa train` / `sudoku-jepa eval` and `torchrun -m training`: arguments and launch.

Kept apart from `training/cli.py` so the CLI module stays torch-free until a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", choices=("tiny", "cpu", "cpu-recurrent", "gpu"), default="cpu",
                   help="base recipe (default cpu): tiny = < 1 minute smoke run, cpu = the shipped "
                   "model (~60 min on 2 cores), gpu = full scale on one GPU")
    p.add_argument("--config", metavar="FILE", help="JSON file of config overrides")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set model.d_model=64 (repeatable; with "
                   "--resume: on top of the run's stored config, e.g. a new loss weight)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="default: the config's (auto = CUDA when present)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its latest.pt")
    p.add_argument("--out", default="runs", metavar="DIR", help="parent of run folders")
    p.add_argument("--name", help="run folder name (default: the preset; -2, -3... if taken)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="train exactly N steps (total)")
    budget.add_argument("--minutes", type=float, help="wall-clock budget of this process")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def train_command(args: argparse.Namespace) -> int:
    import torch.distributed as dist

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
    try:
        if args.resume:
            run, ck = load_resume(args.resume)
            cfg = TrainConfig.from_dict(ck["config"])
            apply_overrides(cfg, parse_set(args.set))  # e.g. a new loss weight when fine-tuning
        else:
            cfg = preset(args.preset)
            if args.config:
                apply_overrides(cfg, flatten(load_config_file(args.config)))
            apply_overrides(cfg, parse_set(args.set))
            run = None
    except (CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.device:
        cfg.device = args.device
    if args.steps is not None and args.steps < 1:
        print("error: --steps must be >= 1", file=sys.stderr)
        return 1
    dist_info = setup_distributed(cfg.device)
    try:
        if dist_info.main:
            if run is None:
                run = RunDir(unique_run_path(args.out, args.name or args.preset))
                run.create(cfg.to_dict())
            else:
                run.truncate_metrics_after(ck["step"])
                run.log(f"resumed from {run.latest} at step {ck['step']}")
            print(f"run folder: {run.path}", file=sys.stderr)
        try:
            trainer = Trainer(cfg, run if dist_info.main else None, resume=ck,
                              dist_info=dist_info, quiet=args.quiet, steps=args.steps)
        except (CheckpointError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if ck is not None and args.minutes is None and args.steps is None:
            trainer.fixed_steps = True  # finish the schedule the run already had
        return trainer.fit(minutes=args.minutes)
    finally:
        if dist_info.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="a .pt checkpoint")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="puzzle files: puzzle,solution CSV or one puzzle a line")
    p.add_argument("--limit", type=int, default=None, help="first N puzzles of each file")
    p.add_argument("--steps", default="1,4,16,64,256,1024", metavar="N,N,...",
                   help="test-time step counts to score, each its own solve (descent steps; "
                   "encoder iterations for a jepa=false baseline). Default: %(default)s")
    p.add_argument("--chains", type=int, default=1,
                   help="chains per puzzle; the lowest energy wins (default: 1)")
    p.add_argument("--noise", type=float, default=0.0,
                   help="chain noise, annealed to 0 (default: 0, plain descent)")
    p.add_argument("--step-size", type=float, default=None,
                   help="descent step size (default: the learned one)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
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
            raise ValueError("--steps: step counts must be >= 1")
        model = model_from_checkpoint(load_checkpoint(args.checkpoint), args.checkpoint)
        device = pick_device(args.device)
    except (CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    model.to(device).eval()
    status = 0
    for path in args.files:
        try:
            puzzles, solutions = read_dataset(path, limit=args.limit)
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        rows = steps_table(model, puzzles, solutions, steps, chains=args.chains,
                           noise=args.noise, step_size=args.step_size)
        for row in rows:
            row = {"file": str(path), "chains": args.chains, "noise": args.noise, **row}
            if args.json:
                print(json.dumps(row), flush=True)
                continue
            extra = ""
            if "energy_rise_frac" in row:
                auc = row["energy_auroc"]
                extra = (f", energy rose on {row['energy_rise_frac']:.2%} of steps, AUROC "
                         + ("n/a" if auc is None else f"{auc:.3f}"))
            print(f"{Path(path).name}: {row['puzzles']} puzzles, {row['steps']} steps x "
                  f"{args.chains} chains: puzzle {row['puzzle_acc']:.2%}, cell "
                  f"{row['cell_acc']:.2%}, {row['ms_per_puzzle']:.1f} ms/puzzle{extra}",
                  flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    """`python -m training ...` / `torchrun --nproc_per_node N -m training ...` = train."""
    parser = argparse.ArgumentParser(prog="python -m training", description="train a model")
    add_train_arguments(parser)
    return train_command(parser.parse_args(argv))
