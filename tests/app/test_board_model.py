"""The Qt-free board state: edits, history, parsing with clashes kept, the solver overlay."""

import numpy as np
import pytest

from app.board_model import SOURCE_SEARCH, BoardState
from model import board

PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"


def test_set_cell_undo_redo():
    state = BoardState()
    assert state.set_cell(0, 5)
    assert state.set_cell(1, 3)
    assert not state.set_cell(1, 3)  # no change, no history entry
    assert state.text().startswith("53.")
    assert state.undo()
    assert state.text().startswith("5..")
    assert state.undo()
    assert state.is_empty()
    assert not state.undo()
    assert state.redo() and state.redo()
    assert state.text().startswith("53.")
    assert not state.redo()


def test_new_edit_drops_redo_and_overlay():
    state = BoardState()
    state.set_cell(0, 5)
    state.undo()
    state.show_step(np.zeros(81, np.int8), np.full((81, 9), 1 / 9, np.float32), np.zeros(81, bool))
    state.set_cell(2, 4)
    assert not state.can_redo()
    assert state.overlay is None


def test_load_text_is_one_undo_step():
    state = BoardState()
    state.set_cell(80, 9)
    state.load_text(PUZZLE)
    assert state.text() == PUZZLE
    assert state.given_count() == 30
    state.undo()
    assert state.digit(80) == 9 and state.given_count() == 1


def test_nine_line_grid_parses():
    rows = [PUZZLE[i : i + 9] for i in range(0, 81, 9)]
    assert board.format_grid(board.parse_grid("\n".join(rows), allow_clashes=True)) == PUZZLE


def test_clashing_givens_are_kept_and_flagged():
    text = "55" + "." * 79
    grid = board.parse_grid(text, allow_clashes=True)
    state = BoardState()
    state.load(grid)
    assert state.has_conflicts()
    assert list(np.flatnonzero(state.conflicts())) == [0, 1]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("5" * 80, "wrong length"), ("x" + "." * 80, "bad character 'x' at index 0")],
)
def test_malformed_text_raises_with_position(text, fragment):
    state = BoardState()
    with pytest.raises(board.PuzzleError, match=fragment):
        state.load_text(text)
    assert state.is_empty()


def test_set_cell_rejects_bad_digit():
    with pytest.raises(board.PuzzleError, match="r1c1"):
        BoardState().set_cell(0, 12)


def test_final_overlay_marks_conflicts_and_sources():
    state = BoardState()
    state.load_text(PUZZLE)
    grid = state.puzzle
    grid[2] = 5  # clashes with the given 5 at r1c1
    source = np.full(81, SOURCE_SEARCH, np.int8)
    state.show_final(grid, None, source)
    assert state.overlay.final
    assert state.overlay.conflicts[2] and state.overlay.conflicts[0]
    assert state.solution_text()[2] == "5"
