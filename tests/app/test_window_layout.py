"""The window as a newcomer meets it: a small screen, the verdict area, the status bar, names."""

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget

from app import puzzle_library
from app.main import MainWindow

MAX_MINIMUM = (800, 560)  # logical pixels: 150% scaling on a 1600x1000 screen, with room


def open_window(qtbot, settings, model_path=None, example=False) -> MainWindow:
    window = MainWindow(settings=settings, model_path=model_path, dialogs=False, example=example)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def inside_window(window: MainWindow, widget: QWidget) -> bool:
    """The widget is shown and lies wholly within the window's client area."""
    if not widget.isVisible() or widget.width() <= 0 or widget.height() <= 0:
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    return (top_left.x() >= 0 and top_left.y() >= 0
            and top_left.x() + widget.width() <= window.width()
            and top_left.y() + widget.height() <= window.height())


def test_minimum_size_fits_a_small_screen_with_every_control_reachable(qtbot, app_settings):
    window = open_window(qtbot, app_settings, example=True)
    hint = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert hint.width() <= MAX_MINIMUM[0] and hint.height() <= MAX_MINIMUM[1], hint
    window.resize(*MAX_MINIMUM)
    qtbot.waitUntil(lambda: window.width() <= MAX_MINIMUM[0] + 1)
    qtbot.wait(50)  # let the layouts settle
    panel = window.panel
    for widget in (window.new_button, window.level_combo, panel.solve_button, panel.step_button,
                   panel.pause_button, panel.reset_button, window.verdict, window.board,
                   window.plot, window.statusBar()):
        assert inside_window(window, widget), widget
    assert window.board.width() >= 280 and window.plot.height() >= 100
    # The settings below the buttons scroll rather than push the window bigger.
    area = panel.scroll_area
    assert area.verticalScrollBar().maximum() > 0
    area.ensureWidgetVisible(panel.defaults_button)
    qtbot.wait(50)
    assert area.viewport().rect().contains(
        panel.defaults_button.mapTo(area.viewport(), panel.defaults_button.rect().center()))
    # The Training tab fits the same window.
    window.tabs.setCurrentWidget(window.training_panel)
    qtbot.wait(50)
    assert window.width() <= MAX_MINIMUM[0] + 1 and window.height() <= MAX_MINIMUM[1] + 1


def test_a_long_verdict_does_not_change_the_board_size(qtbot, app_settings):
    window = open_window(qtbot, app_settings, example=True)
    window.resize(1100, 720)
    qtbot.wait(50)
    before = window.board.size()
    window.verdict.setText("<b>Solved</b>: finished by search, 1234 nodes (the network's grid "
                           "had 40 conflicting cells) · 1024 steps · 812 ms · final energy 0.0308 "
                           "· and a few more words to make a third line of text")
    qtbot.wait(50)
    assert window.board.size() == before


def test_long_status_messages_are_elided_before_the_model_label(qtbot, app_settings):
    window = open_window(qtbot, app_settings)
    window.resize(900, 600)
    qtbot.wait(50)
    bar = window.statusBar()
    text = "Loaded " + "/very/long/folder" * 20 + "/model.onnx on CPU"
    bar.showMessage(text)
    shown = bar.currentMessage()
    assert shown != text and shown.endswith("…") and bar.full_message == text
    assert bar.fontMetrics().horizontalAdvance(shown) <= bar.message_room()
    assert bar.message_room() + window.model_label.width() <= bar.width()
    window.resize(700, 500)  # narrower: the message is cut again, not run into the label
    qtbot.wait(50)
    assert bar.fontMetrics().horizontalAdvance(bar.currentMessage()) <= bar.message_room()
    bar.showMessage("short")
    assert bar.currentMessage() == "short"


def test_library_puzzle_sets_the_puzzle_box_to_its_level(qtbot, app_settings):
    window = open_window(qtbot, app_settings)
    hard = puzzle_library.puzzles_of(puzzle_library.load_library(), "hard")[2]
    assert window.load_library_puzzle(hard)
    assert window.level_combo.currentData() == "hard"
    assert window.level_combo.currentText() == "Hard"


def test_the_example_puzzle_names_its_level(qtbot, app_settings):
    window = open_window(qtbot, app_settings, example=True)
    assert window.level_combo.currentData() == puzzle_library.load_library()[0].level


def test_title_and_status_name_the_run_and_open_model_starts_beside_it(
        qtbot, app_settings, shipped_model):
    window = open_window(qtbot, app_settings)
    assert window.load_model(shipped_model)
    run = window.model.metadata["run_name"]
    assert run in window.windowTitle() and run in window.model_label.text()
    assert run in window.statusBar().full_message
    assert Path(window.model_directory()) == Path(shipped_model).resolve().parent


def test_speed_label_says_one_step(qtbot):
    from app.solver_panel import speed_label

    assert speed_label(1) == "1 step/s"
    assert speed_label(2) == "2 steps/s"
    assert speed_label(61) == "max"


@pytest.mark.parametrize("scale", ["1.5"])
def test_minimum_size_in_logical_pixels_does_not_depend_on_scale(scale):
    """QT_SCALE_FACTOR scales device pixels only: the logical minimum above is what a 1.5x
    screen of 1600x1000 device pixels (1066x666 logical) must hold."""
    assert MAX_MINIMUM[0] * float(scale) <= 1600 and MAX_MINIMUM[1] * float(scale) <= 1000 - 100
