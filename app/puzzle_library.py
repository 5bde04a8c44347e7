"""Example puzzles by difficulty: the built-in library and fresh ones from the generator.

The library files (`assets/puzzles/<level>.txt`, one 81-character puzzle a line) are made by
`python -m app.puzzle_library` with model.generator and a fixed seed, never copied from the
benchmark sets, so nothing the model is evaluated on ships as an example.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assets import ASSETS_DIR
from model import board, generator

LIBRARY_DIR = ASSETS_DIR / "puzzles"
LIBRARY_SEED = 20261126


@dataclass(frozen=True)
class Level:
    name: str
    givens: tuple[int, int]
    difficulty: str  # model.generator difficulty
    description: str


LEVELS: tuple[Level, ...] = (
    Level("easy", (36, 42), "singles", "36-42 givens, singles solve it"),
    Level("medium", (27, 32), "singles", "27-32 givens, singles solve it"),
    Level("hard", (22, 28), "hard", "22-28 givens, needs more than singles"),
)
LEVEL_NAMES = tuple(level.name for level in LEVELS)


@dataclass(frozen=True)
class LibraryPuzzle:
    level: str
    index: int  # 1-based within its level
    puzzle: np.ndarray  # (81,) int8

    @property
    def title(self) -> str:
        givens = int(np.count_nonzero(self.puzzle))
        return f"{self.level.capitalize()} #{self.index} ({givens} givens)"


def level(name: str) -> Level:
    for candidate in LEVELS:
        if candidate.name == name:
            return candidate
    raise ValueError(f"unknown difficulty {name!r}; choose one of {', '.join(LEVEL_NAMES)}")


def generate(name: str, seed: int | None = None) -> np.ndarray:
    """A fresh unique puzzle of the named level, (81,) int8 (hard ones take up to a second)."""
    chosen = level(name)
    rng = np.random.default_rng(seed)
    return generator.generate_puzzle(rng, chosen.givens, chosen.difficulty).puzzle


def load_library(directory: Path = LIBRARY_DIR) -> list[LibraryPuzzle]:
    """Every library puzzle, by level then file order; a malformed line raises PuzzleError."""
    puzzles: list[LibraryPuzzle] = []
    for chosen in LEVELS:
        path = directory / f"{chosen.name}.txt"
        if not path.exists():
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            try:
                grid = board.parse_grid(line)
            except board.PuzzleError as exc:
                raise board.PuzzleError(f"{path}:{number}: {exc}") from exc
            puzzles.append(LibraryPuzzle(chosen.name, len(puzzles_of(puzzles, chosen.name)) + 1,
                                         grid))
    return puzzles


def read_puzzle_file(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Every puzzle in a file, in any format model.puzzle_io reads, and the bad records' errors.

    Puzzles whose only fault is clashing givens are kept (the board shows the clash highlighted).
    Raises PuzzleError when the file cannot be read or holds no usable puzzle.
    """
    from model import puzzle_io

    grids: list[np.ndarray] = []
    errors: list[str] = []
    for record in puzzle_io.read_puzzles(path):
        if record.grid is not None:  # a clash is kept: the board highlights it
            grids.append(record.grid)
        else:
            errors.append(record.error or f"{path}:{record.line}: unreadable puzzle")
    if not grids:
        raise board.PuzzleError(errors[0] if errors else f"{path}: no puzzle found")
    return grids, errors


def puzzles_of(puzzles: list[LibraryPuzzle], name: str) -> list[LibraryPuzzle]:
    return [p for p in puzzles if p.level == name]


def write_library(directory: Path = LIBRARY_DIR, per_level: int = 6,
                  seed: int = LIBRARY_SEED) -> list[Path]:
    """Generate the library files (deterministic for a seed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for offset, chosen in enumerate(LEVELS):
        made = generator.generate_puzzles(per_level, chosen.givens, chosen.difficulty,
                                          seed=seed + offset)
        path = directory / f"{chosen.name}.txt"
        path.write_text("".join(board.format_grid(p.puzzle) + "\n" for p in made),
                        encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate the app's example puzzles.")
    parser.add_argument("--per-level", type=int, default=6)
    parser.add_argument("--seed", type=int, default=LIBRARY_SEED)
    args = parser.parse_args()
    for path in write_library(per_level=args.per_level, seed=args.seed):
        print(path)


if __name__ == "__main__":
    main()
