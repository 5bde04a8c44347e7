"""The board widget: selection, digit entry, clearing, locking, conflicts and the solver's view."""

import numpy as np
from PySide6.QtCore import QPoint, Qt

from app.board_model import BoardState
from app.board_view import VIEW_DIGITS, VIEW_PROBABILITIES, BoardView


def make_view(qtbot) -> BoardView:
    view = BoardView(BoardState())
    qtbot.addWidget(view)
    view.resize(450, 450)
    view.show()
    qtbot.waitExposed(view)
    view.setFocus()
    return view


def test_click_selects_and_digits_enter(qtbot):
    view = make_view(qtbot)
    center = view.cell_rect(10).center().toPoint()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=center)
    assert view.selected == 10
    with qtbot.waitSignal(view.edited, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_7)
    assert view.state.digit(10) == 7
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_3)
    assert view.state.digit(11) == 3
    assert view.cell_content(11).kind == "given"


def test_arrows_wrap_and_clear_keys(qtbot):
    view = make_view(qtbot)
    view.select(0)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.selected == 8
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.selected == 80
    for key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete, Qt.Key.Key_0):
        qtbot.keyClick(view, Qt.Key.Key_4)
        assert view.state.digit(80) == 4
        qtbot.keyClick(view, key)
        assert view.state.digit(80) == 0


def test_locked_board_refuses_edits(qtbot):
    view = make_view(qtbot)
    view.set_locked(True)
    with qtbot.waitSignal(view.edit_refused, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_5)
    assert view.state.is_empty()


def test_conflicts_highlighted_as_you_type(qtbot):
    view = make_view(qtbot)
    view.select(0)
    qtbot.keyClick(view, Qt.Key.Key_5)
    view.select(8)  # same row
    qtbot.keyClick(view, Qt.Key.Key_5)
    assert view.cell_content(0).conflict and view.cell_content(8).conflict
    assert not view.cell_content(40).conflict
    qtbot.keyClick(view, Qt.Key.Key_6)
    assert not view.cell_content(0).conflict


def test_probability_view_and_digit_toggle(qtbot):
    view = make_view(qtbot)
    probs = np.full((81, 9), 1 / 9, np.float32)
    probs[1] = 0.0
    probs[1, 3] = 0.97  # confident: digit 4 shown large
    grid = probs.argmax(axis=1).astype(np.int8) + 1
    changed = np.zeros(81, bool)
    changed[2] = True
    view.state.show_step(grid, probs, changed)
    assert view.cell_content(0).kind == "heatmap"
    assert view.cell_content(1).kind == "digit" and view.cell_content(1).digit == 4
    assert view.cell_content(2).changed
    view.set_view_mode(VIEW_DIGITS)
    assert view.cell_content(0).kind == "digit"
    view.set_view_mode(VIEW_PROBABILITIES)
    image = view.grab()  # paints every kind of cell without error
    assert not image.isNull()


def test_board_scales_with_window(qtbot):
    view = make_view(qtbot)
    view.resize(300, 300)
    small = view.cell_rect(0).width()
    view.resize(900, 700)
    assert view.cell_rect(0).width() > 2 * small
    assert view.cell_at(view.cell_rect(80).center()) == 80
    assert view.cell_at(QPoint(0, 0).toPointF()) is None


def test_solver_digits_that_break_a_rule_are_marked_live(qtbot):
    view = make_view(qtbot)
    probs = np.zeros((81, 9), np.float32)
    probs[:, 0] = 0.95  # every cell confidently "1": rows, columns and boxes all clash
    probs[:, 1] = 0.05
    grid = np.ones(81, np.int8)
    view.state.show_step(grid, probs, np.zeros(81, bool))
    content = view.cell_content(0)
    assert content.kind == "digit" and content.conflict
