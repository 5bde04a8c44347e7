"""Quitting while trainers started from the app still run: stop them gracefully, say so, wait.

A trainer stopped by SIGTERM finishes its step, saves a checkpoint and exports its model, which
took ~10 s during which the window used to freeze without a word. Here the window stays live, a
dialog names the runs it waits for and offers "Quit now" (SIGKILL), and `done` fires when every
trainer has exited or the grace period is over.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.run_launcher import TrainerLauncher

GRACE_MS = 15000  # as TrainerLauncher.shutdown: after this the trainers are killed


class QuitWaiter(QObject):
    done = Signal()

    def __init__(self, launcher: TrainerLauncher, window: QWidget, grace_ms: int = GRACE_MS,
                 show_dialog: bool = True) -> None:
        super().__init__(window)
        self.launcher = launcher
        self.runs = launcher.running_runs()
        names = ", ".join(run.name for run in self.runs)
        plural = "s" if len(self.runs) > 1 else ""
        self.text = (f"Quitting: waiting for training run{plural} {names} to finish the current "
                     f"step, save a checkpoint and export the model (at most {grace_ms // 1000} s)"
                     "…")
        self._done = False
        self._grace = QTimer(self)
        self._grace.setSingleShot(True)
        self._grace.setInterval(grace_ms)
        self._grace.timeout.connect(self.kill_all)
        self.dialog: QProgressDialog | None = None
        if show_dialog:
            self.dialog = QProgressDialog(self.text, "Quit now", 0, 0, window)
            self.dialog.setWindowTitle("Quitting")
            self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
            self.dialog.setMinimumDuration(0)
            self.dialog.canceled.connect(self.kill_all)
        launcher.finished.connect(self._check)

    def start(self) -> None:
        for run in self.runs:
            self.launcher.terminate(run)
        self._grace.start()
        if self.dialog is not None:
            self.dialog.show()
        self._check()

    def is_done(self) -> bool:
        return self._done

    def kill_all(self) -> None:
        for run in self.launcher.running_runs():
            self.launcher.kill(run)
        self._check()

    def _check(self, *_args) -> None:
        if self._done or self.launcher.running_runs():
            return
        self._done = True
        self._grace.stop()
        if self.dialog is not None:
            self.dialog.reset()
            self.dialog.hide()
        self.done.emit()
