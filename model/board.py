"""Sudoku board rules on plain numpy arrays, shared by solver, generator, training and the app.

A grid is a `(81,)` int8 array, row-major, `0` = blank, `1..9` = digits. Nothing here imports
torch or Qt, so every layer of the project can use it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BLANKS",
    "BOXES",
    "COLS",
    "PEERS",
    "ROWS",
    "UNITS",
    "UNIT_NAMES",
    "PuzzleError",
    "as_puzzle",
    "candidate_mask",
    "cell_name",
    "check_givens",
    "conflict_pairs",
    "conflicts",
    "format_grid",
    "is_complete",
    "is_valid_solution",
    "parse_grid",
]


class PuzzleError(ValueError):
    """Bad puzzle input; the message names the problem and where it is (index, cell, line)."""


BLANKS = ".0"
# Characters a 9-line grid may use to draw its box borders; dropped before reading cells.
GRID_SEPARATORS = " \t|+-"

_cells = np.arange(81)
ROWS: np.ndarray = (_cells // 9).astype(np.int64)  # (81,) row of each cell
COLS: np.ndarray = (_cells % 9).astype(np.int64)  # (81,) column of each cell
BOXES: np.ndarray = (ROWS // 3 * 3 + COLS // 3).astype(np.int64)  # (81,) box of each cell

UNITS: np.ndarray = np.array(  # (27, 9): 9 rows, 9 columns, 9 boxes
    [np.flatnonzero(r == ROWS) for r in range(9)]
    + [np.flatnonzero(c == COLS) for c in range(9)]
    + [np.flatnonzero(b == BOXES) for b in range(9)],
    dtype=np.int64,
)
UNIT_NAMES: tuple[str, ...] = tuple(
    [f"row {i + 1}" for i in range(9)]
    + [f"column {i + 1}" for i in range(9)]
    + [f"box {i + 1}" for i in range(9)]
)
_same_unit = (ROWS[:, None] == ROWS) | (COLS[:, None] == COLS) | (BOXES[:, None] == BOXES)
PEERS: np.ndarray = np.array(  # (81, 20): cells sharing a row, column or box, self excluded
    [np.flatnonzero(_same_unit[i] & (_cells != i)) for i in range(81)],
    dtype=np.int64,
)
_PEER_MATRIX = np.zeros((81, 81), dtype=bool)  # (81, 81) [i, j] = j is a peer of i
_PEER_MATRIX[np.repeat(np.arange(81), 20), PEERS.ravel()] = True
del _cells, _same_unit


def cell_name(index: int) -> str:
    """`r1c1`-style name of a cell index 0..80 (1-based, as players read boards)."""
    return f"r{index // 9 + 1}c{index % 9 + 1}"


def parse_grid(text: str, allow_clashes: bool = False) -> np.ndarray:
    """Parse one puzzle: an 81-character line or a 9-line grid with optional `| - +` separators.

    Blanks are `.` or `0`. Raises PuzzleError naming a bad character's index, a wrong length,
    or (unless `allow_clashes`: the app loads such a puzzle and highlights the clash) two equal
    givens in a unit. Returns a `(81,)` int8 array. The project's only text-to-grid parser.
    """
    if not isinstance(text, str):
        raise PuzzleError(f"expected puzzle text, got {type(text).__name__}")
    stripped = text.strip()
    if "\n" in stripped or "\r" in stripped:
        lines = stripped.splitlines()
        rows = ["".join(ch for ch in line if ch not in GRID_SEPARATORS) for line in lines]
        cells = "".join(row for row in rows if row)
    else:
        cells = stripped
    for index, ch in enumerate(cells):
        if not (ch in BLANKS or "1" <= ch <= "9"):
            where = f"index {index}" + (f" ({cell_name(index)})" if index < 81 else "")
            raise PuzzleError(f"bad character {ch!r} at {where}; expected 1-9, '.' or '0'")
    if len(cells) != 81:
        raise PuzzleError(f"wrong length: expected 81 cells, got {len(cells)}")
    grid = np.frombuffer(cells.replace(".", "0").encode("ascii"), dtype=np.uint8) - ord("0")
    grid = grid.astype(np.int8)
    if not allow_clashes:
        check_givens(grid)
    return grid


def as_puzzle(puzzle: np.ndarray | list[int] | str) -> np.ndarray:
    """The one input check for a grid handed to the rules, the search or verified mode.

    Accepts 81 integer values 0..9 in any array shape or list (integer-valued floats too, as a
    model may return), or text (`parse_grid`, clashes refused). Returns a new `(81,)` int8 array.
    Raises PuzzleError naming the first bad cell. Clashing givens in an array are not checked
    here: callers that refuse them call `check_givens`.
    """
    if isinstance(puzzle, str):
        return parse_grid(puzzle)
    array = np.asarray(puzzle)
    if array.size != 81:
        raise PuzzleError(f"wrong length: expected 81 cells, got {array.size}")
    array = array.reshape(81)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise PuzzleError(f"a puzzle holds digits 0..9, got dtype {array.dtype}")
    bad = np.flatnonzero((array < 0) | (array > 9) | (array != np.round(array)))
    if bad.size:
        i = int(bad[0])
        raise PuzzleError(f"bad value {array[i]} at index {i} ({cell_name(i)})")
    return array.astype(np.int8)


def format_grid(grid: np.ndarray) -> str:
    """81 characters, `.` for blanks: the text form every file and log uses."""
    grid = _as_grid(grid)
    return "".join("." if v == 0 else chr(ord("0") + int(v)) for v in grid)


def conflict_pairs(grid: np.ndarray) -> list[tuple[int, int]]:
    """Pairs `(i, j)`, `i < j`, of peer cells holding the same digit, sorted."""
    grid = _as_grid(grid)
    same = (grid[:, None] == grid[None, :]) & (grid[:, None] != 0) & _PEER_MATRIX
    i, j = np.nonzero(np.triu(same))
    return [(int(a), int(b)) for a, b in zip(i, j, strict=True)]


def conflicts(grid: np.ndarray) -> np.ndarray:
    """`(81,)` bool: cells whose digit also appears in one of their peers."""
    grid = _as_grid(grid)
    same = (grid[:, None] == grid[None, :]) & (grid[:, None] != 0) & _PEER_MATRIX
    return same.any(axis=1)


def check_givens(grid: np.ndarray) -> None:
    """Raise PuzzleError naming the first two cells that hold the same digit in a unit."""
    grid = _as_grid(grid)
    in_units = np.sort(grid[UNITS], axis=1)  # (27, 9) fast path: any repeated digit at all?
    if not ((in_units[:, 1:] == in_units[:, :-1]) & (in_units[:, 1:] > 0)).any():
        return
    for unit, name in zip(UNITS, UNIT_NAMES, strict=True):
        seen: dict[int, int] = {}
        for cell in unit:
            digit = int(grid[cell])
            if digit == 0:
                continue
            if digit in seen:
                first, second = cell_name(seen[digit]), cell_name(int(cell))
                raise PuzzleError(f"{first} and {second} both hold {digit} in {name}")
            seen[digit] = int(cell)


def candidate_mask(grid: np.ndarray) -> np.ndarray:
    """`(81, 9)` bool: digit `d` (column `d-1`) unused by all peers; a given keeps its digit."""
    grid = _as_grid(grid)
    onehot = np.zeros((81, 10), dtype=bool)  # (81, 10) column 0 = blank
    onehot[np.arange(81), grid] = True
    used = (_PEER_MATRIX[:, :, None] & onehot[None, :, 1:]).any(axis=1)  # (81, 9)
    mask = ~used
    filled = grid > 0
    mask[filled] = onehot[filled, 1:]
    return mask


def is_complete(grid: np.ndarray) -> bool:
    """Every cell holds a digit (rules not checked)."""
    return bool(np.all(_as_grid(grid) > 0))


def is_valid_solution(grid: np.ndarray, puzzle: np.ndarray | None = None) -> bool:
    """Complete, no repeated digit in any unit, and (when given) keeps every given of `puzzle`."""
    grid = _as_grid(grid)
    if not np.all((grid >= 1) & (grid <= 9)):
        return False
    units = np.sort(grid[UNITS], axis=1)  # (27, 9)
    if not np.all(units == np.arange(1, 10)):
        return False
    if puzzle is not None:
        puzzle = _as_grid(puzzle)
        givens = puzzle > 0
        return bool(np.all(grid[givens] == puzzle[givens]))
    return True


def _as_grid(grid: np.ndarray) -> np.ndarray:
    """`as_puzzle` widened to int64, the index type the rules above compute with."""
    return as_puzzle(grid).astype(np.int64)
