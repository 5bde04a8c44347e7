"""The main window without solving: entry, undo/redo shortcuts, paste, files, models, settings."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app import puzzle_library
from app.main import MainWindow
from app.model_dialog import model_info_html
from app.solve_controller import NO_MODEL
from model import board, search

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def easy_puzzle() -> np.ndarray:
    return puzzle_library.load_library()[0].puzzle


def open_window(qtbot, settings, model_path=None) -> MainWindow:
    window = MainWindow(settings=settings, model_path=model_path, dialogs=False, example=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.board.setFocus()
    return window


@pytest.fixture
def window(qtbot, app_settings) -> MainWindow:
    return open_window(qtbot, app_settings)


def test_opens_without_a_model_and_says_so(window):
    assert window.model is None
    assert window.model_label.text() == NO_MODEL
    assert "no model loaded" in window.verdict.text().lower()


def test_typing_digits_then_undo_redo_shortcuts(qtbot, window):
    view = window.board
    view.select(0)
    qtbot.keyClick(view, Qt.Key.Key_5)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_6)
    assert window.state.text()[:3] == "56."
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert window.state.text()[:3] == "5.."
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert window.state.is_empty()
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL | SHIFT)
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL | SHIFT)
    assert window.state.text()[:3] == "56."
    assert not window.redo_action.isEnabled()


def test_paste_good_81_char_and_9_line(qtbot, window):
    text = board.format_grid(easy_puzzle())
    QGuiApplication.clipboard().setText(text)
    qtbot.keyClick(window.board, Qt.Key.Key_V, CTRL)
    assert window.state.text() == text
    window.state.clear()
    rows = "\n".join(text[i : i + 9].replace(".", "0") for i in range(0, 81, 9))
    assert window.paste_puzzle(rows)
    assert window.state.text() == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("12x" + "." * 78, "bad character 'x' at index 2 (r1c3)"),
        ("123", "wrong length: expected 81 cells, got 3"),
        ("   ", "no text"),
    ],
)
def test_paste_bad_text_names_the_problem_and_keeps_the_board(window, text, fragment):
    window.paste_puzzle(board.format_grid(easy_puzzle()))
    before = window.state.text()
    assert not window.paste_puzzle(text)
    assert fragment in window.last_problem
    assert window.state.text() == before


def test_clashing_givens_highlighted_and_solver_refuses(qtbot, window):
    assert window.paste_puzzle("55" + "." * 79)
    assert window.board.cell_content(0).conflict and window.board.cell_content(1).conflict
    window.solver.solve()
    assert not window.is_busy()
    assert "r1c1 and r1c2" in window.last_problem
    assert "clash" in window.verdict.text().lower()


def test_save_then_open_a_file_with_several_puzzles(window, tmp_path):
    library = puzzle_library.load_library()
    window.load_puzzle(library[0].puzzle, "test")
    saved = tmp_path / "one.txt"
    assert window.save_puzzle_file(saved)
    assert saved.read_text().strip() == window.state.text()
    several = tmp_path / "several.txt"
    several.write_text("".join(board.format_grid(p.puzzle) + "\n" for p in library[:3]))
    assert window.open_puzzle_file(several, index=2)
    assert window.state.text() == board.format_grid(library[2].puzzle)
    assert not window.open_puzzle_file(tmp_path / "missing.txt")
    assert "missing.txt" in window.last_problem


def test_new_puzzle_is_generated_off_the_gui_thread(qtbot, window, monkeypatch):
    real_generate = puzzle_library.generate
    calls = []

    def recording_generate(level, seed=None):
        puzzle = real_generate(level, seed)
        calls.append((level, threading.get_ident(), puzzle))
        return puzzle

    monkeypatch.setattr(puzzle_library, "generate", recording_generate)
    window.new_puzzle("hard")
    qtbot.waitUntil(lambda: not window.is_busy() and not window.state.is_empty(), timeout=30000)
    assert len(calls) == 1
    level, thread, generated = calls[0]
    assert level == "hard" and thread != threading.get_ident()  # not the GUI (test) thread
    assert np.array_equal(window.state.puzzle, generated)
    result = search.solve(window.state.puzzle, limit=2)
    assert result.status == "unique" and result.guesses > 0  # one solution; "hard" needs search


def test_corrupt_model_keeps_the_loaded_one(window, tiny_onnx_model, tmp_path):
    assert window.load_model(tiny_onnx_model)
    loaded = window.model
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07 this is not an onnx model")
    assert not window.load_model(corrupt)
    assert window.model is loaded
    assert "corrupt.onnx" in window.last_problem
    assert tiny_onnx_model.name in window.model_label.text()


def test_model_info_shows_metadata_and_provider(window, tiny_onnx_model):
    window.load_model(tiny_onnx_model)
    page = model_info_html(window.model)
    assert window.model.provider.upper() in page
    assert "architecture (config)" in page and "z_dim" in page


def test_settings_persist_across_windows(qtbot, app_settings, tiny_onnx_model):
    first = open_window(qtbot, app_settings, tiny_onnx_model)
    first.panel.steps.setValue(7)
    first.panel.speed_slider.setValue(25)
    first.close()
    from app.main import _USE_DEFAULT

    second = MainWindow(settings=app_settings, model_path=_USE_DEFAULT, dialogs=False,
                        example=False)
    qtbot.addWidget(second)
    assert second.panel.steps.value() == 7
    assert second.panel.speed_slider.value() == 25
    assert second.model is not None and second.model.path == tiny_onnx_model


def test_junk_settings_file_opens_with_a_message(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from app.settings import AppSettings

    path = tmp_path / "junk.ini"
    path.write_text("[solver]\nsteps=many\nchains=2\nstep_size=x\nnoise=0\nseed=0\nspeed=abc\n")
    settings = AppSettings(QSettings(str(path), QSettings.Format.IniFormat))
    window = open_window(qtbot, settings)
    assert "'solver/speed'" in window.statusBar().currentMessage()
    assert window.panel.speed_slider.value() == 12


def test_editing_during_a_model_free_search_drops_its_answer(qtbot, window):
    window.load_puzzle(easy_puzzle(), "test")
    window.solver.solve()  # no model: exact search in the background
    window.board.select(int(np.flatnonzero(window.state.puzzle == 0)[0]))
    window.board.enter_digit(0)  # no change; then a real edit:
    window.clear_puzzle()
    qtbot.wait(300)
    assert not window.is_busy()
    assert window.state.overlay is None  # the old puzzle's answer never lands on the new board
