"""Training data: an endless generated stream with an easy-to-hard curriculum, file datasets, and
fixed-seed validation sets by difficulty.

Puzzles always have a unique solution (random masks do not: see MODEL-FACTS). The numba
generator makes >1,000 minimal puzzles a second, so the stream generates fresh puzzles (plus a
random symmetry) instead of cycling a pre-generated pool. A stream's whole state is one numpy
bit-generator state, so a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.atomic_file import atomic_write_bytes
from model.board import PuzzleError, format_grid, parse_grid
from model.generator import augment, generate_puzzle, generate_puzzles

VAL_SEED = 7_000_003  # validation seeds live far from training seeds (seed * 1000 + rank)


class DataError(ValueError):
    """A dataset file that cannot be used; the message names the path and line."""


@dataclass
class DataConfig:
    bands: tuple[tuple[int, int], ...] = ((30, 40), (25, 30), (17, 25))  # givens ranges
    start_weights: tuple[float, ...] = (1.0, 0.0, 0.0)  # band mixture at step 0
    end_weights: tuple[float, ...] = (0.3, 0.2, 0.5)  # ... from `curriculum_frac` of the run on
    curriculum_frac: float = 0.5
    train_file: str | None = None  # a file dataset instead of the generated stream
    pool_size: int = 0  # > 0: per band, a cached pool of this many puzzles + augmentation
    #                     (GPU runs: generating fresh puzzles would starve the GPU)
    cache_dir: str = "runs/.pool-cache"
    val_size: int = 256  # puzzles per validation set
    val_bands: tuple[tuple[str, int, int], ...] = (("easy", 30, 40), ("hard", 17, 25))


def band_weights(cfg: DataConfig, progress: float) -> np.ndarray:
    """Curriculum: linear interpolation start -> end weights over `curriculum_frac`."""
    t = min(max(progress / max(cfg.curriculum_frac, 1e-9), 0.0), 1.0)
    w = (1 - t) * np.asarray(cfg.start_weights, float) + t * np.asarray(cfg.end_weights, float)
    return w / w.sum()


class GeneratedStream:
    """Endless fresh unique puzzles; the givens band of each sample follows the curriculum."""

    def __init__(self, cfg: DataConfig, seed: int, exclude: set[str] | None = None):
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)
        self.exclude = exclude or set()

    def batch(self, size: int, progress: float) -> tuple[np.ndarray, np.ndarray]:
        """(size, 81) int8 puzzles and solutions at curriculum position `progress` in [0, 1]."""
        weights = band_weights(self.cfg, progress)
        puzzles = np.zeros((size, 81), np.int8)
        solutions = np.zeros((size, 81), np.int8)
        i = 0
        while i < size:
            band = self.cfg.bands[int(self.rng.choice(len(weights), p=weights))]
            g = generate_puzzle(self.rng, tuple(band))
            p, s = augment(g.puzzle, g.solution, self.rng)
            if format_grid(p) in self.exclude:
                continue
            puzzles[i], solutions[i] = p, s
            i += 1
        return puzzles, solutions

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]


def _pool_chunk(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    band, count, seed = args
    gen = generate_puzzles(count, tuple(band), seed=seed)
    return np.stack([g.puzzle for g in gen]), np.stack([g.solution for g in gen])


def build_pool(band: tuple[int, int], size: int, seed: int, cache_dir: str | Path,
               exclude: set[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`size` generated puzzles of a givens band, in parallel chunks, cached as .npz."""
    from concurrent.futures import ProcessPoolExecutor

    path = Path(cache_dir) / f"pool-{band[0]}-{band[1]}-{size}-{seed}.npz"
    if path.is_file():
        data = np.load(path)
        return data["puzzles"], data["solutions"]
    chunk = 1000
    jobs = [(band, min(chunk, size - i), seed * 100_003 + i) for i in range(0, size, chunk)]
    workers = max(1, min(len(jobs), (os.cpu_count() or 1)))
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_pool_chunk, jobs))
    puzzles = np.concatenate([p for p, _ in parts])
    solutions = np.concatenate([s for _, s in parts])
    if exclude:
        keep = np.array([format_grid(p) not in exclude for p in puzzles], bool)
        puzzles, solutions = puzzles[keep], solutions[keep]
    buf = io.BytesIO()
    np.savez(buf, puzzles=puzzles, solutions=solutions)
    atomic_write_bytes(path, buf.getvalue(), make_parents=True)
    return puzzles, solutions


class PoolStream:
    """Curriculum over cached per-band pools, each sample a fresh random symmetry."""

    def __init__(self, cfg: DataConfig, seed: int, exclude: set[str] | None = None):
        self.cfg = cfg
        self.pools = [build_pool(band, cfg.pool_size, 1000 + k, cfg.cache_dir, exclude)
                      for k, band in enumerate(cfg.bands)]
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int, progress: float) -> tuple[np.ndarray, np.ndarray]:
        weights = band_weights(self.cfg, progress)
        bands = self.rng.choice(len(weights), size=size, p=weights)
        puzzles = np.zeros((size, 81), np.int8)
        solutions = np.zeros((size, 81), np.int8)
        for i, b in enumerate(bands):
            pool_p, pool_s = self.pools[b]
            j = int(self.rng.integers(len(pool_p)))
            puzzles[i], solutions[i] = augment(pool_p[j], pool_s[j], self.rng)
        return puzzles, solutions

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]


class FileStream:
    """Endless symmetry-augmented samples from a puzzle file (see `read_dataset`)."""

    def __init__(self, path: str | Path, seed: int, exclude: set[str] | None = None):
        puzzles, solutions = read_dataset(path)
        if exclude:
            keep = np.array([format_grid(p) not in exclude for p in puzzles], bool)
            puzzles, solutions = puzzles[keep], solutions[keep]
        if len(puzzles) == 0:
            raise DataError(f"{path}: no usable puzzles")
        self.puzzles, self.solutions = puzzles, solutions
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int, progress: float) -> tuple[np.ndarray, np.ndarray]:
        idx = self.rng.integers(0, len(self.puzzles), size)
        pairs = [augment(self.puzzles[i], self.solutions[i], self.rng) for i in idx]
        return np.stack([p for p, _ in pairs]), np.stack([s for _, s in pairs])

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]


def read_dataset(path: str | Path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Puzzles and solutions (N, 81) int8 from a Kaggle-style `puzzle,solution` CSV (header
    optional) or one puzzle a line (solutions by the exact solver; unique puzzles only).
    `limit`: the first N puzzles only."""
    from model.search import solve

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such dataset file")
    puzzles, solutions = [], []
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not row[0].strip() or row[0].startswith("#"):
                continue
            if lineno == 1 and not any(ch.isdigit() or ch == "." for ch in row[0][:1]):
                continue  # header
            try:
                puzzle = parse_grid(row[0])
                if len(row) > 1 and row[1].strip():
                    solution = parse_grid(row[1])
                else:
                    result = solve(puzzle, limit=2)
                    if result.status != "unique":
                        raise DataError(f"{path}:{lineno}: puzzle has {result.status} solutions")
                    solution = result.solutions[0]
            except PuzzleError as exc:
                raise DataError(f"{path}:{lineno}: {exc}") from exc
            if np.any((puzzle != 0) & (puzzle != solution)):
                raise DataError(f"{path}:{lineno}: solution does not keep the puzzle's givens")
            puzzles.append(puzzle)
            solutions.append(solution)
            if limit is not None and len(puzzles) >= limit:
                break
    if not puzzles:
        raise DataError(f"{path}: no puzzles found")
    return np.stack(puzzles).astype(np.int8), np.stack(solutions).astype(np.int8)


def validation_sets(cfg: DataConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Fixed-seed generated sets by difficulty name -> (puzzles, solutions) (N, 81) int8."""
    sets = {}
    for k, (name, lo, hi) in enumerate(cfg.val_bands):
        gen = generate_puzzles(cfg.val_size, (lo, hi), seed=VAL_SEED + k)
        sets[name] = (np.stack([g.puzzle for g in gen]), np.stack([g.solution for g in gen]))
    return sets


def exclusion_set(sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> set[str]:
    """Text forms of every validation puzzle: training streams skip these (disjoint sets)."""
    return {format_grid(p) for puzzles, _ in sets.values() for p in puzzles}
