"""Starts `sudoku-jepa train` processes for the Training tab and remembers them by run folder.

Each trainer is a QProcess whose stdout/stderr go to a file, not a pipe: the GUI never blocks on
it, and if the app dies the trainer does not die of a broken pipe. That file is what the panel
shows when a trainer exits with an error before its own log says why.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from app.run_monitor import log_tail


def trainer_command() -> tuple[str, list[str]]:
    """The `sudoku-jepa` script beside this interpreter, else `python -m training.cli`."""
    script = Path(sys.executable).with_name("sudoku-jepa")
    if script.is_file() and os.access(script, os.X_OK):
        return str(script), []
    return sys.executable, ["-m", "training.cli"]


class TrainerLauncher(QObject):
    """One QProcess per run folder; the latest one wins when a run is resumed."""

    finished = Signal(object, int)  # run folder (Path), exit code
    failed_to_start = Signal(object, str)  # run folder, what could not be started

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.processes: dict[Path, QProcess] = {}
        self.outputs: dict[Path, Path] = {}  # run folder -> file with the trainer's output
        self.output_dir = Path(tempfile.gettempdir()) / "sudoku-jepa-launch"

    def start(self, run_dir: Path, args: list[str]) -> QProcess:
        """Run `sudoku-jepa <args> --quiet` (the panel shows progress itself)."""
        program, prefix = trainer_command()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        output = self.output_dir / f"{run_dir.name}-{os.getpid()}-{len(self.outputs)}.log"
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.setStandardOutputFile(str(output))
        process.setStandardInputFile(QProcess.nullDevice())
        process.finished.connect(lambda code, _status, d=run_dir: self.finished.emit(d, code))
        process.errorOccurred.connect(lambda error, d=run_dir: self._error(d, error, program))
        self.processes[run_dir] = process
        self.outputs[run_dir] = output
        process.start(program, prefix + args + ["--quiet"])
        return process

    def is_running(self, run_dir: Path) -> bool:
        process = self.processes.get(run_dir)
        return process is not None and process.state() != QProcess.ProcessState.NotRunning

    def running_runs(self) -> list[Path]:
        """The run folders whose trainer (started here) is still running."""
        return [run_dir for run_dir in self.processes if self.is_running(run_dir)]

    def kill(self, run_dir: Path) -> None:
        """SIGKILL: for a user who will not wait for the graceful stop."""
        if self.is_running(run_dir):
            self.processes[run_dir].kill()

    def terminate(self, run_dir: Path) -> bool:
        """SIGTERM to our own trainer for this run; False when we have none running."""
        if not self.is_running(run_dir):
            return False
        self.processes[run_dir].terminate()
        return True

    def output(self, run_dir: Path, lines: int = 15) -> str:
        """The last lines the trainer printed ('' when we never started one here)."""
        path = self.outputs.get(run_dir)
        return log_tail(path, lines) if path is not None else ""

    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Stop every running trainer gracefully (checkpoint, exit 0), then wait for them."""
        for process in self.processes.values():
            if process.state() != QProcess.ProcessState.NotRunning:
                process.terminate()
        for process in self.processes.values():
            running = process.state() != QProcess.ProcessState.NotRunning
            if running and not process.waitForFinished(timeout_ms):
                process.kill()
                process.waitForFinished(2000)

    def _error(self, run_dir: Path, error: QProcess.ProcessError, program: str) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed_to_start.emit(run_dir, program)
