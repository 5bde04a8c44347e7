"""The `sudoku-jepa` command line: solve, generate (train, eval, export, bench come from others).

Each subcommand is one `_add_<name>(subparsers)` that declares its options and one
`_cmd_<name>(args) -> int` handler. Handlers import heavy modules lazily, so `sudoku-jepa solve`
and `generate` never import torch. Exit codes and error messages follow `training.exit_codes`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from training.exit_codes import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    HelpFormatter,
    exit_codes_help,
    fail,
)

__all__ = ["build_parser", "main"]

SOLVE_MODES = ("exact", "neural", "verified")


class ModelUnavailableError(Exception):
    """The model file a solve mode or the bench needs is missing or cannot be loaded; the message
    says which file and why."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return fail(args.command, "interrupted", EXIT_INTERRUPTED)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sudoku-jepa",
        description="Energy-based (JEPA) Sudoku solver: solve and generate puzzles, train, "
        "export and benchmark models. Run `sudoku-jepa COMMAND --help` for a command's options.",
        epilog=exit_codes_help(), formatter_class=HelpFormatter,
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for add in (_add_solve, _add_generate, _add_train, _add_eval, _add_bench):
        add(subparsers)
    _add_export(subparsers)
    for sub in subparsers.choices.values():  # every command's --help ends with the table
        sub.epilog, sub.formatter_class = exit_codes_help(), HelpFormatter
    return parser


# ----------------------------------------------------------------------------- solve


def _add_solve(subparsers) -> None:
    p = subparsers.add_parser(
        "solve",
        help="solve every puzzle of a file, one JSON line per puzzle",
        description="Solve every puzzle in FILE and write one JSON object per puzzle, in input "
        'order: {"puzzle", "solution", "status", "ms", "nodes", ...}. status is "solved", '
        '"unsolved", "no-solution", "multiple" or "invalid" (malformed record: an "error" field '
        "says why, and the run goes on).",
    )
    p.add_argument("file", metavar="FILE", type=Path,
                   help="puzzle file: 81-character lines ('.' or '0' blanks), 9-line grids, .sdk, "
                   "or a CSV with a puzzle[,solution] header; '#' lines are comments")
    p.add_argument("--mode", choices=SOLVE_MODES, default="exact",
                   help="exact: constraint propagation + search (always right); neural: the energy "
                   "model alone (may be wrong: status 'unsolved'); verified: neural answer checked "
                   "by the rules, exact search guided by the model when it fails (default: exact)")
    p.add_argument("--model", type=Path, default=None,
                   help="ONNX model file for --mode neural/verified (default: the shipped model)")
    p.add_argument("--jsonl", type=Path, default=None, metavar="OUT",
                   help="write the JSON lines to OUT (default: stdout)")
    _add_descent_options(p)
    p.add_argument("--trace", action="store_true",
                   help="--mode neural: add a 'trace' list to each row, one entry per descent "
                   "step of the winning chain: energy, conflicts (cells breaking a rule) and "
                   "decided (empty cells whose top probability is >= 0.9)")
    p.add_argument("--limit", type=int, default=2, metavar="N",
                   help="exact search stops after N solutions: 2 proves uniqueness (status "
                   "'multiple' when there are more); 1 stops at the first solution (faster, no "
                   "uniqueness proof). Default: 2")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar with rate and ETA on stderr (default: when stderr is a "
                   "terminal)")
    p.set_defaults(handler=_cmd_solve)


def _add_descent_options(p: argparse.ArgumentParser) -> None:
    """--steps/--chains/--step-size/--noise: the descent; "think longer" is --steps."""
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="descent steps per chain: more steps, more accuracy on hard puzzles "
                   "(default: the model file's)")
    p.add_argument("--chains", type=int, default=None, metavar="C",
                   help="parallel chains; the lowest final energy wins (default: the model "
                   "file's)")
    p.add_argument("--step-size", type=float, default=None, metavar="X",
                   help="gradient step size (default: the model file's, learned in training)")
    p.add_argument("--noise", type=float, default=None, metavar="X",
                   help="noise added to each chain's state, annealed to 0 over the steps; chain "
                   "0 starts clean (default: the model file's)")
    p.add_argument("--seed", type=int, default=None, help="noise seed (default: 0)")
    p.add_argument("--reject-rises", action=argparse.BooleanOptionalAction, default=None,
                   help="refuse a step that raises a chain's energy, so the energy shown never "
                   "rises (the chain stays where it was; default: the model file's)")


def descent_settings(model, args):
    """The model file's default descent with any of --steps/--chains/--step-size/--noise/--seed
    from the command line."""
    settings = model.default_settings()
    for key in ("steps", "chains", "step_size", "noise", "seed", "reject_rises"):
        value = getattr(args, key, None)
        if value is not None:
            setattr(settings, key, value)
    return settings


def _cmd_solve(args) -> int:
    from model.board import PuzzleError, format_grid
    from model.progress import ProgressBar
    from model.puzzle_io import read_puzzles

    if args.limit < 1:
        return fail("solve", f"--limit must be >= 1, got {args.limit}", EXIT_USAGE)
    try:
        records = list(read_puzzles(args.file))
    except PuzzleError as exc:
        return fail("solve", str(exc), EXIT_INPUT)
    try:
        solver = _SOLVER_FACTORIES[args.mode](args)
    except ModelUnavailableError as exc:
        return fail("solve", f"--mode {args.mode} is not available: {exc}", EXIT_MODEL)
    except ValueError as exc:  # descent settings out of range
        return fail("solve", str(exc), EXIT_USAGE)

    counts: dict[str, int] = {}
    try:
        out = open(args.jsonl, "w", encoding="utf-8") if args.jsonl else sys.stdout  # noqa: SIM115
    except OSError as exc:
        return fail("solve", f"cannot write {args.jsonl}: {exc.strerror}", EXIT_FAILED)
    try:
        with ProgressBar(len(records), "solve", " puzzles", enabled=args.progress) as bar:
            for record in records:
                if record.error is not None:
                    row = {"puzzle": record.text, "solution": None, "status": "invalid",
                           "ms": 0.0, "error": record.error}
                else:
                    start = time.perf_counter()
                    try:
                        fields = solver(record.puzzle)
                    except PuzzleError as exc:
                        fields = {"solution": None, "status": "invalid",
                                  "error": f"{args.file}:{record.line}: {exc}"}
                    ms = (time.perf_counter() - start) * 1e3
                    row = {"puzzle": format_grid(record.puzzle), "solution": None,
                           "status": "unsolved", "ms": round(ms, 3)}
                    row.update(fields)
                row["line"] = record.line
                row["mode"] = args.mode
                counts[row["status"]] = counts.get(row["status"], 0) + 1
                out.write(json.dumps(row) + "\n")
                bar.update()
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    print(f"sudoku-jepa solve: {len(records)} puzzles: {summary or 'none'}", file=sys.stderr)
    return EXIT_OK


def _exact_solver(args) -> Callable[[object], dict]:
    from model.board import format_grid
    from model.search import solve

    def run(puzzle) -> dict:
        result = solve(puzzle, limit=args.limit)
        fields = {"nodes": result.nodes, "guesses": result.guesses}
        if result.status == "unique":
            fields.update(status="solved", solution=format_grid(result.solutions[0]))
        elif result.status == "multiple":
            fields.update(status="multiple", solution=None,
                          solutions=[format_grid(s) for s in result.solutions])
        else:
            fields.update(status="no-solution", solution=None)
        return fields

    return run


def _neural_solver(args) -> Callable[[object], dict]:
    """The energy descent alone (onnxruntime): solved only when the grid passes the rules."""
    from model.board import format_grid

    model = _load_bench_model(args.model, provider=None)
    settings = descent_settings(model, args)
    model.check_settings(settings)  # ValueError: a usage error
    print(f"sudoku-jepa solve: neural model {model.path} on {model.provider} "
          f"({model.provider_reason or 'default'}); {settings.steps} steps x {settings.chains} "
          f"chains, step size {settings.step_size}, noise {settings.noise}", file=sys.stderr)

    def run(puzzle) -> dict:
        result = model.solve(puzzle, settings, trace=args.trace)
        trace = result.energy_trace
        fields = {
            "status": "solved" if result.valid else "unsolved",
            "solution": format_grid(result.grid) if result.valid else None,
            "grid": format_grid(result.grid),
            "energy": round(result.energy, 6),
            "energy_trace": {"first": round(trace[0], 6), "min": round(min(trace), 6),
                             "last": round(trace[-1], 6), "steps": result.steps},
            "initial_valid": result.initial_valid,
            "any_chain_valid": result.any_chain_valid,
            "chain": result.chain,
            "neural_ms": round(result.ms, 3),
        }
        if result.trace is not None:
            fields["trace"] = result.trace
        return fields

    return run


def _verified_solver(args) -> Callable[[object], dict]:
    """Neural answer checked by the rules; energy-guided exact search when it fails."""
    from model.board import format_grid
    from model.verified import VerifiedSettings, solve_verified

    model = _load_bench_model(args.model, provider=None)
    settings = VerifiedSettings(check_unique=args.limit >= 2)

    def run(puzzle) -> dict:
        result = solve_verified(model, puzzle, settings)
        data = result.to_json()
        fields = {key: data[key] for key in (
            "status", "by", "source", "shared_with_neural", "nodes_guided", "nodes_plain",
            "nodes_check", "neural_ms", "search_ms")}
        fields["nodes"] = result.nodes_guided
        fields["solution"] = data["grid"] if result.status == "solved" else None
        if result.status == "multiple":
            fields["solutions"] = [format_grid(s) for s in result.solutions]
        if result.status == "invalid":
            fields["error"] = result.message
        if data["neural"] is not None:
            fields["neural"] = data["neural"]
        return fields

    return run


# Each solve mode: a factory `args -> (puzzle -> dict of JSON fields)`; it may raise
# ModelUnavailableError (EXIT_MODEL with its message).
_SOLVER_FACTORIES: dict[str, Callable] = {
    "exact": _exact_solver,
    "neural": _neural_solver,
    "verified": _verified_solver,
}


# ----------------------------------------------------------------------------- generate


def _givens_range(text: str) -> tuple[int, int]:
    """`24-30` or `25` -> (lo, hi); argparse turns ValueError into a usage error."""
    parts = text.split("-")
    try:
        if len(parts) == 1:
            lo = hi = int(parts[0])
        elif len(parts) == 2:
            lo, hi = int(parts[0]), int(parts[1])
        else:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or LO-HI, got {text!r}") from None
    if not 17 <= lo <= hi <= 80:
        raise argparse.ArgumentTypeError(f"need 17 <= LO <= HI <= 80, got {text!r}")
    return lo, hi


def _add_generate(subparsers) -> None:
    p = subparsers.add_parser(
        "generate",
        help="generate puzzles with a unique solution",
        description="Generate random puzzles that each have exactly one solution, with a number "
        "of givens in a range and an optional difficulty, reproducible from --seed. Writes one "
        "81-character line per puzzle ('.' = blank), or a puzzle,solution CSV with --solutions.",
    )
    p.add_argument("--count", type=int, required=True, metavar="N",
                   help="number of puzzles to generate (required)")
    p.add_argument("--givens", type=_givens_range, default=(25, 35), metavar="LO-HI",
                   help="number of givens, a range like 24-30 or one number; drawn uniformly per "
                   "puzzle (default: 25-35). Below what a grid allows (about 20-26) you get "
                   "minimal puzzles")
    p.add_argument("--minimal", action="store_true",
                   help="remove givens until none can go without losing uniqueness (minimal "
                   "puzzles, typically 20-26 givens), keeping those within --givens")
    p.add_argument("--difficulty", choices=("any", "singles", "hard"), default="any",
                   help="singles: naked + hidden singles alone solve it; hard: they do not "
                   "(search or advanced logic needed); any: no filter (default: any)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed: the same seed gives the same puzzles (default: 0)")
    p.add_argument("--solutions", action="store_true",
                   help="write a CSV with a 'puzzle,solution' header instead of puzzle lines")
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="output file, written atomically at the end ('-' for stdout; required)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar with rate and ETA on stderr (default: when stderr is a "
                   "terminal)")
    p.set_defaults(handler=_cmd_generate)


def _cmd_generate(args) -> int:
    import numpy as np

    from model.atomic_file import atomic_write_text
    from model.board import format_grid
    from model.generator import generate_puzzle
    from model.progress import ProgressBar

    if args.count < 0:
        return fail("generate", f"--count must be >= 0, got {args.count}", EXIT_USAGE)
    difficulty = None if args.difficulty == "any" else args.difficulty
    rng = np.random.default_rng(args.seed)
    lines = ["puzzle,solution"] if args.solutions else []
    try:
        with ProgressBar(args.count, "generate", " puzzles", enabled=args.progress) as bar:
            for _ in range(args.count):
                g = generate_puzzle(rng, args.givens, difficulty, minimal=args.minimal)
                text = format_grid(g.puzzle)
                lines.append(f"{text},{format_grid(g.solution)}" if args.solutions else text)
                bar.update()
    except ValueError as exc:
        return fail("generate", str(exc), EXIT_FAILED)
    body = "".join(line + "\n" for line in lines)
    if str(args.out) == "-":
        sys.stdout.write(body)
        return EXIT_OK
    try:
        atomic_write_text(args.out, body)
    except OSError as exc:
        return fail("generate", f"cannot write {args.out}: {exc.strerror}", EXIT_FAILED)
    print(f"sudoku-jepa generate: wrote {args.count} puzzles to {args.out}", file=sys.stderr)
    return EXIT_OK


# ----------------------------------------------------------------------------- train, eval


def _add_train(subparsers) -> None:
    from training.launch import add_train_arguments

    p = subparsers.add_parser(
        "train", help="train a model into runs/<name>/ (resumable)",
        description="Train the JEPA energy model (or the baseline) into runs/<name>/: config, "
        "metrics.jsonl, checkpoints (latest, best by validation puzzle accuracy), ONNX export. "
        "Ctrl-C checkpoints and stops; --resume DIR continues exactly. Multi-GPU: torchrun "
        "--nproc_per_node N -m training ...")
    add_train_arguments(p)
    p.set_defaults(handler=_cmd_train)


def _cmd_train(args) -> int:
    from training.launch import train_command

    return train_command(args)


def _add_eval(subparsers) -> None:
    from training.launch import add_eval_arguments

    p = subparsers.add_parser(
        "eval", help="score a checkpoint on puzzle files (cell and puzzle accuracy)",
        description="Evaluate a training checkpoint on puzzle files: Kaggle puzzle,solution CSV "
        "or one puzzle a line (solutions by the exact solver).")
    add_eval_arguments(p)
    p.set_defaults(handler=_cmd_eval)


def _cmd_eval(args) -> int:
    from training.launch import eval_command

    return eval_command(args)


# ----------------------------------------------------------------------------- export


def _add_export(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export a training checkpoint to the ONNX solver file the app runs",
        description="Write one ONNX file holding the puzzle encoder, the start state and one "
        "descent step with the energy gradient computed in the graph, plus metadata (config, "
        "training data, validation metrics, run name, time, git commit, default settings). "
        "The file is checked by loading it with the torch-free runtime.")
    p.add_argument("--checkpoint", type=Path, required=True, metavar="PATH",
                   help="training checkpoint, e.g. runs/<name>/checkpoints/best.pt")
    p.add_argument("--out", type=Path, default=Path("model.onnx"), metavar="FILE",
                   help="ONNX file to write, atomically (default: model.onnx)")
    p.add_argument("--run-name", default=None,
                   help="run name stored in the metadata (default: the checkpoint's run folder)")
    for flag, kind, what in (
            ("--steps", int, "descent steps (default: the validated eval_steps); more steps "
             "cost time and buy accuracy on hard puzzles"),
            ("--chains", int, "chains (default: 1)"),
            ("--step-size", float, "step size (default: the learned one)"),
            ("--noise", float, "noise of the chains (default: 0)")):
        p.add_argument(flag, type=kind, default=None, help=f"default {what} stored in the file")
    p.set_defaults(handler=_cmd_export)


def _cmd_export(args) -> int:
    from model.export import ExportError, export_checkpoint
    from model.runtime import EnergyModel, ModelError

    chosen = {key: getattr(args, key) for key in ("steps", "chains", "step_size", "noise")}
    settings = {k: v for k, v in chosen.items() if v is not None}
    start = time.perf_counter()
    try:
        out = export_checkpoint(args.checkpoint, args.out, steps=args.steps,
                                run_name=args.run_name, default_settings=settings)
    except ExportError as exc:  # the checkpoint is missing, corrupt, or a model with no energy
        return fail("export", str(exc), EXIT_MODEL)
    except OSError as exc:
        return fail("export", f"cannot write {args.out}: {exc.strerror or exc}", EXIT_FAILED)
    try:
        loaded = EnergyModel.load(out, provider="cpu")
    except ModelError as exc:  # the file just written does not load: an export bug
        return fail("export", str(exc), EXIT_FAILED)
    size_kb = out.stat().st_size / 1024
    print(f"sudoku-jepa export: wrote {out} ({size_kb:.0f} KiB) in "
          f"{time.perf_counter() - start:.1f} s; loads in {loaded.load_ms:.0f} ms; "
          f"default settings {loaded.default_settings()}", file=sys.stderr)
    return EXIT_OK


# ----------------------------------------------------------------------------- bench


def _load_bench_model(path: Path | None, provider: str | None):
    """The model for verified solving and the bench; ModelUnavailableError says why not."""
    from model.runtime import EnergyModel, ModelError

    path = path or Path(__file__).resolve().parents[1] / "assets" / "model.onnx"
    try:
        return EnergyModel.load(path, provider=provider)
    except ModelError as exc:
        raise ModelUnavailableError(f"{exc} (train one, or pass --model FILE)") from exc


def _add_bench(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="accuracy and speed of neural and verified solving, per puzzle set",
        description="Run every puzzle of each set through the energy descent and verified mode; "
        "write a Markdown table and JSON beside it. Accuracy is a rule check of each grid. Sets: "
        "every file in ../shared/benchmarks/ (or --sets) plus generated easy/medium/hard sets "
        "with fixed seeds. Evaluation only: nothing is tuned on these sets.",
    )
    p.add_argument("--model", type=Path, default=None,
                   help="ONNX model file (default: assets/model.onnx)")
    p.add_argument("--sets", type=Path, nargs="+", default=None, metavar="FILE",
                   help="puzzle files to run (default: every file in ../shared/benchmarks/)")
    p.add_argument("--generated", type=int, default=500, metavar="N",
                   help="puzzles in each generated set (easy 36-45 givens, medium 27-35, hard "
                   "20-30 needing more than singles); 0 = none (default: 500)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the generated sets (default: the fixed benchmark seed)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="at most N puzzles a set, the first N of each file (default: all)")
    p.add_argument("--out", type=Path, default=Path("assets/benchmarks.md"), metavar="FILE",
                   help="Markdown report; JSON goes beside it (default: assets/benchmarks.md)")
    p.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto",
                   help="onnxruntime provider (default: auto, CUDA when usable)")
    p.add_argument("--steps", type=int, default=None,
                   help="descent steps per chain (default: the model's)")
    p.add_argument("--chains", type=int, default=None, help="chains (default: the model's)")
    p.add_argument("--steps-table", default=None, metavar="N,N,...",
                   help="also score neural-only accuracy at each of these step counts (one "
                   "noise-free chain, each its own solve), e.g. 1,4,16,64,256,1024: the "
                   "'think longer' table")
    p.add_argument("--no-unique-check", action="store_true",
                   help="skip verified mode's uniqueness proof (it is on by default)")
    p.add_argument("--no-early-stop", action="store_true",
                   help="verified mode runs the full descent instead of stopping at the first "
                   "valid grid (early stop is on by default)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.set_defaults(handler=_cmd_bench)


def _cmd_bench(args) -> int:
    from dataclasses import replace

    from model.benchmark import (
        DEFAULT_SEED,
        format_markdown,
        generated_sets,
        load_file_set,
        run_benchmark,
        shared_sets,
        steps_accuracy,
        write_report,
    )
    from model.board import PuzzleError
    from model.progress import ProgressBar
    from model.verified import VerifiedSettings

    try:
        table_steps = tuple(int(n) for n in args.steps_table.split(",")) if args.steps_table \
            else ()
    except ValueError:
        return fail("bench", f"--steps-table wants step counts like 1,4,16, got "
                    f"{args.steps_table!r}", EXIT_USAGE)
    try:
        model = _load_bench_model(args.model, None if args.provider == "auto" else args.provider)
    except ModelUnavailableError as exc:
        return fail("bench", str(exc), EXIT_MODEL)
    try:
        if args.sets:
            sets = [load_file_set(path, args.limit) for path in args.sets]
        else:
            sets = shared_sets(args.limit)
    except PuzzleError as exc:
        return fail("bench", str(exc), EXIT_INPUT)
    count = args.generated if args.limit is None else min(args.generated, args.limit)
    if count > 0:
        sets += generated_sets(count, DEFAULT_SEED if args.seed is None else args.seed)
    if not sets:
        return fail("bench", "no puzzle sets (no ../shared/benchmarks/, --generated 0)",
                    EXIT_USAGE)
    descent = model.default_settings()
    if args.steps is not None:
        descent = replace(descent, steps=args.steps)
    if args.chains is not None:
        descent = replace(descent, chains=args.chains)
    settings = VerifiedSettings(descent=descent, check_unique=not args.no_unique_check,
                                early_stop=not args.no_early_stop)
    total = sum(len(s.puzzles) for s in sets)
    with ProgressBar(total, "bench", " puzzles", enabled=args.progress) as bar:
        def progress(done: int, _total: int, name: str) -> None:
            bar.label = f"bench {name}"
            bar.update()

        report = run_benchmark(model, sets, settings, progress=progress)
    if table_steps:
        with ProgressBar(total * len(table_steps), "steps", " solves",
                         enabled=args.progress) as bar:
            def table_progress(done: int, _total: int, name: str) -> None:
                bar.label = f"steps {name}"
                bar.update()

            report["steps_table"] = steps_accuracy(model, sets, table_steps,
                                                   progress=table_progress)
    try:
        md, js = write_report(report, args.out)
    except OSError as exc:
        return fail("bench", f"cannot write {args.out}: {exc.strerror or exc}", EXIT_FAILED)
    print(format_markdown(report))
    print(f"sudoku-jepa bench: wrote {md} and {js}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
