"""Speed of the exact solver and the generator: a script, not a test (timings vary by machine).

    .venv/bin/python benchmarks/bench_search.py [--files F ...] [--count N] [--generate N]

For each puzzle file: `solve_many` (batch, first solution) and `solve(limit=2)` (one call per
puzzle, uniqueness proven), every solution checked with `is_valid_solution`. Then the generator's
rate at 25-35 givens. Rates are given per wall second and per CPU second of this process (the
latter is what a quiet core would give on a shared, loaded machine). A warm-up call keeps JIT
compilation out of the timings (it is cached on disk anyway).
"""

from __future__ import annotations

import argparse
import os
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


class Timer:
    """Wall and process-CPU time of a block: on a shared machine the CPU rate is the fair one."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rates(self, n: int) -> str:
        return f"{n / self.wall:8.0f} puzzles/s wall ({n / max(self.cpu, 1e-9):8.0f}/s CPU)"


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

    with Timer() as batch:
        solutions, nodes = solve_many(puzzles)
    batch_ok = sum(is_valid_solution(s, p) for s, p in zip(solutions, puzzles, strict=True))

    with Timer() as single:
        results = [solve(p, limit=2) for p in puzzles]
    unique_ok = sum(
        r.status == "unique" and is_valid_solution(r.solutions[0], p)
        for r, p in zip(results, puzzles, strict=True)
    )
    n = len(puzzles)
    print(f"{path.name}: {n} puzzles")
    print(f"  solve_many (first solution): {batch.rates(n)}, "
          f"{batch_ok}/{n} verified, mean nodes {nodes.mean():.1f}")
    print(f"  solve(limit=2) per puzzle  : {single.rates(n)}, "
          f"{unique_ok}/{n} unique and verified, "
          f"mean guesses {np.mean([r.guesses for r in results]):.1f}")


def bench_generator(count: int) -> None:
    generate_puzzles(2, seed=123)  # warm-up (JIT)
    for difficulty in (None, "singles", "hard"):
        with Timer() as timer:
            puzzles = generate_puzzles(count, givens=(25, 35), difficulty=difficulty, seed=1)
        unique = sum(solve(g.puzzle).status == "unique" for g in puzzles)
        print(f"generator 25-35 givens, difficulty={difficulty or 'any'}: "
              f"{timer.rates(count)}, {unique}/{count} unique")
    with Timer() as timer:
        puzzles = generate_puzzles(count // 4, givens=(17, 35), seed=2, minimal=True)
    print(f"generator minimal: {timer.rates(len(puzzles))}, "
          f"mean givens {np.mean([g.givens for g in puzzles]):.1f}")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", type=Path, default=DEFAULT_FILES,
                        help="puzzle files to solve (default: the shared 17-clue and top1465 sets)")
    parser.add_argument("--count", type=int, default=None,
                        help="solve only the first N puzzles of each file (default: all)")
    parser.add_argument("--generate", type=int, default=2000,
                        help="puzzles to generate per generator measurement (0 skips it)")
    args = parser.parse_args()
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; python {platform.python_version()}; single thread")
    for path in args.files:
        bench_file(path, args.count)
    if args.generate:
        bench_generator(args.generate)


if __name__ == "__main__":
    main()
