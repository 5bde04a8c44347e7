"""Speed of the onnxruntime energy descent: one Langevin step, a full solve, export size, load.

    .venv/bin/python benchmarks/bench_runtime.py --model assets/model.onnx
    .venv/bin/python benchmarks/bench_runtime.py --preset cpu  # times an untrained export
                                                               # (speed does not depend on weights)

Targets (2-core CPU, 1 thread): a default solve <= 100 ms a puzzle; a long one (1024 steps)
<= 1 s. A script, not a test: timings on a shared machine are noisy, so every
figure is a median over many calls. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _export_untrained(preset_name: str, out: Path) -> Path:
    import torch

    from model.export import export_model
    from model.network import SudokuJEPA
    from training.presets import preset

    torch.manual_seed(0)
    model = SudokuJEPA(preset(preset_name).model)
    return export_model(model, out, run_name=f"untrained-{preset_name}")


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def bench(model_path: Path, threads: int, puzzles: int, step_repeats: int) -> dict:
    os.environ["SUDOKU_JEPA_THREADS"] = str(threads)
    from model.generator import generate_puzzles
    from model.runtime import (
        ENCODE_INPUTS,
        ENCODE_OUTPUTS,
        STEP_INPUTS,
        STEP_OUTPUTS,
        EnergyModel,
    )

    loads = []
    for _ in range(5):
        model = EnergyModel.load(model_path, provider="cpu")
        loads.append(model.load_ms)
    Z = model.z_dim
    settings = model.default_settings()
    sample = generate_puzzles(puzzles, givens=(25, 40), seed=2024)
    puzzle = sample[0].puzzle.astype(np.int64)[None]
    rng = np.random.default_rng(0)

    def step_ms(chains: int) -> float:
        noise = np.zeros((1, chains, 81, Z), np.float32)
        z_context, z = model._encode.run(list(ENCODE_OUTPUTS), {
            ENCODE_INPUTS[0]: puzzle, ENCODE_INPUTS[1]: noise})
        z = z[0]  # (C, 81, Z): one row per chain
        feeds = dict(zip(STEP_INPUTS, [
            z_context.repeat(chains, 0), puzzle.repeat(chains, 0), z, np.array(0.5, np.float32),
            rng.standard_normal(z.shape).astype(np.float32) * 0.05], strict=True))
        return _median_ms(lambda: model._step.run(list(STEP_OUTPUTS), feeds), step_repeats)

    def encode_ms() -> float:
        noise = np.zeros((1, settings.chains, 81, Z), np.float32)
        return _median_ms(lambda: model._encode.run(list(ENCODE_OUTPUTS), {
            ENCODE_INPUTS[0]: puzzle, ENCODE_INPUTS[1]: noise}), 20)

    solve_times, solved = [], 0
    for item in sample:
        result = model.solve(item.puzzle, settings)
        solve_times.append(result.ms)
        solved += int(result.valid)
    return {
        "threads": threads,
        "size_kib": model_path.stat().st_size / 1024,
        "load_ms": statistics.median(loads),
        "encode_ms": encode_ms(),
        "step_ms": {c: step_ms(c) for c in (1, 4, 8, 16)},
        "settings": settings,
        "solve_median_ms": statistics.median(solve_times),
        "solve_p95_ms": float(np.percentile(solve_times, 95)),
        "solved": f"{solved}/{len(sample)}",
        "config": model.config,
    }


def sweep(model_path: Path, threads: int, puzzles: int, grid: list[tuple[int, int]]) -> list[dict]:
    """Accuracy and time of (steps, chains) settings on generated puzzles (never the shared sets).

    The evidence behind the default settings stored at export: where more descent stops paying.
    """
    import dataclasses

    os.environ["SUDOKU_JEPA_THREADS"] = str(threads)
    from model.generator import generate_puzzles
    from model.runtime import EnergyModel

    model = EnergyModel.load(model_path, provider="cpu")
    base = model.default_settings()
    sets = {"30-40 givens": generate_puzzles(puzzles, givens=(30, 40), seed=4242),
            "24-30 givens": generate_puzzles(puzzles, givens=(24, 30), seed=4243)}
    rows = []
    for steps, chains in grid:
        settings = dataclasses.replace(base, steps=steps, chains=chains)
        row = {"steps": steps, "chains": chains}
        for name, items in sets.items():
            times, valid, initial = [], 0, 0
            for item in items:
                result = model.solve(item.puzzle, settings)
                times.append(result.ms)
                valid += int(result.valid)
                initial += int(result.initial_valid)
            row[name] = (valid / len(items), initial / len(items), statistics.median(times))
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="ONNX solver file")
    parser.add_argument("--preset", default=None,
                        help="export an untrained model of this preset (tiny|cpu|gpu) and time it")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="onnxruntime intra-op thread counts to compare (default: 1 2)")
    parser.add_argument("--puzzles", type=int, default=30, help="puzzles for the solve median")
    parser.add_argument("--step-repeats", type=int, default=200)
    parser.add_argument("--sweep", nargs="*", default=None, metavar="STEPSxCHAINS",
                        help="also compare settings, e.g. --sweep 0x1 5x4 10x4 20x8")
    args = parser.parse_args()

    if args.preset:
        tmp = Path(tempfile.mkdtemp()) / f"{args.preset}.onnx"
        start = time.perf_counter()
        path = _export_untrained(args.preset, tmp)
        print(f"exported untrained {args.preset} preset in {time.perf_counter() - start:.1f} s")
    else:
        path = args.model or ROOT / "assets" / "model.onnx"
    rows = [bench(path, t, args.puzzles, args.step_repeats) for t in args.threads]
    cfg = rows[0]["config"]
    print(f"\nmodel {path} ({rows[0]['size_kib']:.0f} KiB): update {cfg.get('update')}, "
          f"d_model {cfg.get('d_model')}, z_dim {cfg.get('z_dim')}, encoder_layers "
          f"{cfg.get('encoder_layers')}; settings {rows[0]['settings']}\n")
    print("| threads | load ms | encode ms | step ms 1 / 4 / 8 / 16 chains | solve median ms "
          "| solve p95 ms | valid |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        steps = " / ".join(f"{r['step_ms'][c]:.2f}" for c in (1, 4, 8, 16))
        print(f"| {r['threads']} | {r['load_ms']:.0f} | {r['encode_ms']:.2f} | {steps} | "
              f"{r['solve_median_ms']:.1f} | {r['solve_p95_ms']:.1f} | {r['solved']} |")
    if args.sweep is not None:
        grid = [tuple(int(v) for v in item.split("x")) for item in args.sweep]
        rows = sweep(path, args.threads[0], args.puzzles, grid)
        names = [k for k in rows[0] if k not in ("steps", "chains")]
        print("\n| steps x chains | " + " | ".join(
            f"{n}: valid / step-0 valid / median ms" for n in names) + " |")
        print("|---|" + "---|" * len(names))
        for r in rows:
            cells = " | ".join(f"{r[n][0]:.0%} / {r[n][1]:.0%} / {r[n][2]:.1f}" for n in names)
            print(f"| {r['steps']} x {r['chains']} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
