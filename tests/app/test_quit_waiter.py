"""Quitting while a trainer started here still runs: the window says what it waits for."""

import time

from app.main import MainWindow
from tests.app.test_training_panel import fake_trainer


def test_quit_waits_visibly_for_the_trainer_then_closes(qtbot, app_settings, tmp_path):
    window = MainWindow(settings=app_settings, model_path=None, dialogs=False, example=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    launcher = window.training_panel.launcher
    run = tmp_path / "runs" / "busy-run"
    run.mkdir(parents=True)
    process = fake_trainer(qtbot, launcher, run)
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 0.5  # no freeze: the event loop keeps running
    assert window.isVisible()
    message = window.statusBar().full_message
    assert "waiting for training run busy-run" in message and "checkpoint" in message
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert process.exitCode() == 0  # stopped gracefully, not killed


def test_quit_now_kills_the_trainer(qtbot, app_settings, tmp_path):
    from app.quit_waiter import QuitWaiter

    window = MainWindow(settings=app_settings, model_path=None, dialogs=False, example=False)
    qtbot.addWidget(window)
    launcher = window.training_panel.launcher
    run = tmp_path / "runs" / "stubborn"
    run.mkdir(parents=True)
    fake_trainer(qtbot, launcher, run)
    waiter = QuitWaiter(launcher, window, grace_ms=60_000, show_dialog=True)
    done = []
    waiter.done.connect(lambda: done.append(True))
    waiter.start()
    assert waiter.dialog is not None and "stubborn" in waiter.dialog.labelText()
    waiter.dialog.cancel()  # "Quit now"
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    assert not launcher.running_runs()
