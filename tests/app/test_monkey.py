"""A few thousand random clicks, keys, pastes and solver presses: no crash, no hung worker.

pytest-qt turns any exception raised inside a Qt slot or event handler into a test failure, so
the loop only has to keep the window busy; the end checks that every worker thread stops.
"""

import random
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from app import puzzle_library
from app.main import MainWindow
from app.solver_panel import MAX_SPEED
from model import board

KEYS = [getattr(Qt.Key, f"Key_{d}") for d in range(10)] + [
    Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Backspace,
    Qt.Key.Key_Delete, Qt.Key.Key_Space, Qt.Key.Key_A, Qt.Key.Key_Escape, Qt.Key.Key_Tab,
]
ACTIONS = 3000
BUDGET_S = 20.0


def junk_texts(rng: random.Random) -> list[str]:
    good = board.format_grid(puzzle_library.load_library()[rng.randrange(18)].puzzle)
    rows = "\n".join(good[i : i + 9] for i in range(0, 81, 9))
    return [
        good, rows, "55" + "." * 79, good[:40], good + "9", "", "\x00" * 81, "é" * 81,
        "".join(rng.choice("0123456789.x|-+ \n") for _ in range(rng.randrange(200))),
    ]


def test_random_input_never_crashes_or_hangs(qtbot, app_settings, tiny_onnx_model, tmp_path):
    rng = random.Random(20261126)
    window = MainWindow(settings=app_settings, model_path=tiny_onnx_model, dialogs=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.panel.steps.setValue(8)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"junk" * 50)
    view = window.board

    def click() -> None:
        point = QPoint(rng.randrange(view.width()), rng.randrange(view.height()))
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)

    def key() -> None:
        modifier = rng.choice([Qt.KeyboardModifier.NoModifier] * 6
                              + [Qt.KeyboardModifier.ControlModifier,
                                 Qt.KeyboardModifier.ControlModifier
                                 | Qt.KeyboardModifier.ShiftModifier])
        qtbot.keyClick(view, rng.choice(KEYS + [Qt.Key.Key_Z]), modifier)

    actions = [
        (click, 20), (key, 40),
        (lambda: window.paste_puzzle(rng.choice(junk_texts(rng))), 6),
        (window.solver.solve, 6), (window.solver.step, 4), (window.solver.pause, 4),
        (window._reset, 4), (window.undo, 3), (window.redo, 3),
        (lambda: window.panel.speed_slider.setValue(rng.randint(1, MAX_SPEED)), 2),
        (lambda: window.set_view_mode(rng.choice(["probabilities", "digits"])), 2),
        (lambda: window.new_puzzle(rng.choice(puzzle_library.LEVEL_NAMES)), 1),
        (lambda: window.load_model(corrupt), 1),
        (lambda: window.resize(rng.randint(500, 1400), rng.randint(400, 1000)), 1),
    ]
    choices = [a for a, weight in actions for _ in range(weight)]
    deadline = time.perf_counter() + BUDGET_S
    done = 0
    while done < ACTIONS and time.perf_counter() < deadline:
        rng.choice(choices)()
        done += 1
        if done % 4 == 0:
            QApplication.processEvents()
    assert done >= 500, f"only {done} actions in {BUDGET_S} s"
    assert window.model is not None  # the corrupt file never replaced it
    assert window.state.puzzle.shape == (81,)

    threads = [job.thread for job in (window.solver._job, window._gen_job) if job is not None]
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 5.0
    assert not any(thread.isRunning() for thread in threads)
    print(f"monkey: {done} actions")
