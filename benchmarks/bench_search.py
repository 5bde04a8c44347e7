"""Speed of the exact solver and the generator: a script, not a test (timings vary by machine).

    .venv/bin/python benchmarks/bench_search.py [--files F ...] [--count N] [--generate N]

For each puzzle file: `solve_many` (batch, first solution) and `solve(limit=2)` (one call per
puzzle, uniqueness proven), every solution checked with `is_valid_solution`. Then the generator's
rate at 25-35 givens. JIT compilation is excluded by a warm-up call (it is cached on disk anyway).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from model.board import is_valid_solution
from model.generator import generate_puzzles
from model.puzzle_io import read_puzzles
from model.search import solve, solve_many

BENCHMARKS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
DEFAULT_FILES = [
    BENCHMARKS / "puzzles2_17_clue.txt",
    BENCHMARKS / "puzzles3_magictour_top1465.txt",
]


def load(path: Path, count: int | None) -> np.ndarray:
    """`(N, 81)` int8 puzzles of a file (bad records skipped), the first `count` if given."""
    puzzles = [record.puzzle for record in read_puzzles(path) if record.error is None]
    if count:
        puzzles = puzzles[:count]
    return np.stack(puzzles)


def bench_file(path: Path, count: int | None) -> None:
    puzzles = load(path, count)
    solve_many(puzzles[:2])  # warm-up (JIT)
    solve(puzzles[0])

    start = time.perf_counter()
    solutions, nodes = solve_many(puzzles)
    batch_s = time.perf_counter() - start
    batch_ok = sum(is_valid_solution(s, p) for s, p in zip(solutions, puzzles, strict=True))

    start = time.perf_counter()
    results = [solve(p, limit=2) for p in puzzles]
    single_s = time.perf_counter() - start
    unique_ok = sum(
        r.status == "unique" and is_valid_solution(r.solutions[0], p)
        for r, p in zip(results, puzzles, strict=True)
    )
    n = len(puzzles)
    print(f"{path.name}: {n} puzzles")
    print(f"  solve_many (first solution): {n / batch_s:10.0f} puzzles/s, "
          f"{batch_ok}/{n} verified, mean nodes {nodes.mean():.1f}")
    print(f"  solve(limit=2) per puzzle  : {n / single_s:10.0f} puzzles/s, "
          f"{unique_ok}/{n} unique and verified, "
          f"mean guesses {np.mean([r.guesses for r in results]):.1f}")


def bench_generator(count: int) -> None:
    generate_puzzles(2, seed=123)  # warm-up (JIT)
    for difficulty in (None, "singles", "hard"):
        start = time.perf_counter()
        puzzles = generate_puzzles(count, givens=(25, 35), difficulty=difficulty, seed=1)
        seconds = time.perf_counter() - start
        unique = sum(solve(g.puzzle).status == "unique" for g in puzzles)
        print(f"generator 25-35 givens, difficulty={difficulty or 'any'}: "
              f"{count / seconds:8.0f} puzzles/s, {unique}/{count} unique")
    start = time.perf_counter()
    puzzles = generate_puzzles(count // 4, givens=(17, 35), seed=2, minimal=True)
    seconds = time.perf_counter() - start
    print(f"generator minimal: {len(puzzles) / seconds:8.0f} puzzles/s, "
          f"mean givens {np.mean([g.givens for g in puzzles]):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", type=Path, default=DEFAULT_FILES,
                        help="puzzle files to solve (default: the shared 17-clue and top1465 sets)")
    parser.add_argument("--count", type=int, default=None,
                        help="solve only the first N puzzles of each file (default: all)")
    parser.add_argument("--generate", type=int, default=2000,
                        help="puzzles to generate per generator measurement (0 skips it)")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, single thread")
    for path in args.files:
        bench_file(path, args.count)
    if args.generate:
        bench_generator(args.generate)


if __name__ == "__main__":
    main()
