"""The editable board behind the app, free of Qt so its rules are tested without a display.

Two layers live here: the puzzle the user builds (every digit typed, pasted or loaded is a given)
with an undo/redo history, and the solver's overlay (its current grid, per-cell probabilities,
cells that changed in the last step, and which cells the exact search filled). Any edit of the
puzzle drops the overlay, because it no longer answers the puzzle on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.solution_check import known_solution, wrong_cells
from model import board

# Who filled a cell of the solver overlay; the codes match model.verified's SOURCE_* constants.
SOURCE_BLANK, SOURCE_GIVEN, SOURCE_NEURAL, SOURCE_SEARCH = 0, 1, 2, 3

_HISTORY_LIMIT = 500


@dataclass
class SolverOverlay:
    """What the solver currently shows on top of the puzzle."""

    grid: np.ndarray  # (81,) int8: the solver's digits (givens kept)
    probs: np.ndarray | None = None  # (81, 9) float32, digit d at column d-1
    changed: np.ndarray = field(default_factory=lambda: np.zeros(81, dtype=bool))  # (81,) bool
    source: np.ndarray | None = None  # (81,) int8 SOURCE_* once the run is finished
    conflicts: np.ndarray = field(default_factory=lambda: np.zeros(81, dtype=bool))  # (81,) bool
    final: bool = False  # the run ended; the grid is the verdict, not a snapshot


class BoardState:
    """The puzzle being edited, its history, and the solver overlay.

    Snapshots (81 bytes each) make the history: simple, and bulk edits such as a paste undo in one
    step just like a single digit.
    """

    def __init__(self) -> None:
        self._puzzle = np.zeros(81, dtype=np.int8)  # (81,) 0 = blank
        self._undo: list[np.ndarray] = []
        self._redo: list[np.ndarray] = []
        self.overlay: SolverOverlay | None = None
        self._solution: tuple[bytes, np.ndarray | None] | None = None  # (puzzle bytes, solution)

    # --- the puzzle -------------------------------------------------------------------------
    @property
    def puzzle(self) -> np.ndarray:
        """A copy of the puzzle, (81,) int8."""
        return self._puzzle.copy()

    def digit(self, cell: int) -> int:
        return int(self._puzzle[cell])

    def is_given(self, cell: int) -> bool:
        return bool(self._puzzle[cell] != 0)

    def given_count(self) -> int:
        return int(np.count_nonzero(self._puzzle))

    def is_empty(self) -> bool:
        return self.given_count() == 0

    def set_cell(self, cell: int, digit: int) -> bool:
        """Write `digit` (0 clears) into `cell`; returns whether anything changed."""
        if not 0 <= cell < 81:
            raise board.PuzzleError(f"cell index {cell} is outside 0..80")
        if not 0 <= digit <= 9:
            raise board.PuzzleError(f"digit {digit} at r{cell // 9 + 1}c{cell % 9 + 1} is not 0..9")
        if self._puzzle[cell] == digit:
            return False
        new = self._puzzle.copy()
        new[cell] = digit
        self._commit(new)
        return True

    def load(self, puzzle: np.ndarray) -> None:
        """Replace the whole puzzle (one undo step). Raises PuzzleError on a malformed array;
        clashing givens are loaded (and shown highlighted)."""
        self._commit(board.as_puzzle(puzzle))

    def load_text(self, text: str) -> None:
        """Parse an 81-character line or a 9-line grid and load it; PuzzleError says what is wrong.

        Clashing givens are loaded anyway (and shown highlighted): the user sees and fixes them.
        """
        self.load(board.parse_grid(text, allow_clashes=True))

    def clear(self) -> None:
        self._commit(np.zeros(81, dtype=np.int8))

    def text(self) -> str:
        """The puzzle as 81 characters, '.' for blanks."""
        return board.format_grid(self._puzzle)

    def solution_text(self) -> str:
        """The solver's grid if there is one, else the puzzle, as 81 characters."""
        if self.overlay is not None:
            return board.format_grid(self.overlay.grid)
        return self.text()

    def solution(self) -> np.ndarray | None:
        """The puzzle's unique solution (exact search, cached per puzzle), or None."""
        key = self._puzzle.tobytes()
        if self._solution is None or self._solution[0] != key:
            self._solution = (key, known_solution(self._puzzle))
        return self._solution[1]

    def wrong_cells(self) -> np.ndarray:
        """(81,) bool: the overlay's cells that differ from the solution (none when unknown)."""
        solution = self.solution() if self.overlay is not None else None
        if solution is None:
            return np.zeros(81, dtype=bool)
        return wrong_cells(self.overlay.grid, solution, self._puzzle)

    def conflicts(self) -> np.ndarray:
        """(81,) bool: given cells whose digit repeats in a row, column or box."""
        return board.conflicts(self._puzzle)

    def has_conflicts(self) -> bool:
        return bool(self.conflicts().any())

    # --- history ----------------------------------------------------------------------------
    def _commit(self, new: np.ndarray) -> None:
        if np.array_equal(new, self._puzzle):
            return
        self._undo.append(self._puzzle)
        del self._undo[:-_HISTORY_LIMIT]
        self._redo.clear()
        self._puzzle = new
        self.overlay = None

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self._puzzle)
        self._puzzle = self._undo.pop()
        self.overlay = None
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self._puzzle)
        self._puzzle = self._redo.pop()
        self.overlay = None
        return True

    # --- the solver overlay -----------------------------------------------------------------
    def show_step(self, grid: np.ndarray, probs: np.ndarray | None, changed: np.ndarray) -> None:
        """Show one descent step: grid (81,), probs (81, 9), changed (81,) bool."""
        grid = np.asarray(grid, dtype=np.int8).copy()
        self.overlay = SolverOverlay(
            grid=grid,
            probs=None if probs is None else np.asarray(probs, dtype=np.float32).copy(),
            changed=np.asarray(changed, dtype=bool).copy(),
            conflicts=board.conflicts(grid),  # the model's digits that break a rule, live
        )

    def show_final(
        self,
        grid: np.ndarray,
        probs: np.ndarray | None,
        source: np.ndarray | None,
    ) -> None:
        """Show the run's verdict; conflicting solver cells are marked."""
        grid = np.asarray(grid, dtype=np.int8).copy()
        if source is None:
            source = np.where(self._puzzle != 0, SOURCE_GIVEN, SOURCE_NEURAL).astype(np.int8)
            source[grid == 0] = SOURCE_BLANK
        self.overlay = SolverOverlay(
            grid=grid,
            probs=None if probs is None else np.asarray(probs, dtype=np.float32).copy(),
            source=np.asarray(source, dtype=np.int8).copy(),
            conflicts=board.conflicts(grid),
            final=True,
        )

    def clear_overlay(self) -> None:
        self.overlay = None
