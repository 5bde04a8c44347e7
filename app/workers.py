"""Background jobs: the animated energy descent, and one-shot calls (generate a puzzle, ...).

Workers are QObjects moved to their own QThread. They hold no widget, talk only by signals
(connected before `start()`), and are controlled from the GUI thread through thread-safe methods
(a Condition), because their loop keeps the worker thread's event loop busy.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from model import board, verified

MAX_IN_FLIGHT = 2  # steps emitted but not yet shown: the worker waits beyond this (backpressure)


@dataclass
class RunOutcome:
    """How a run ended; `verified` is set when the exact finish ran."""

    puzzle: np.ndarray  # (81,) int8
    steps: int = 0  # descent steps shown (step 0 included)
    last: Any = None  # the last DescentStep
    neural: Any = None  # NeuralResult built from the steps
    verified: Any = None  # VerifiedResult, or None
    compute_ms: float = 0.0  # time spent in the model and the search, not in pacing/pauses
    stopped: bool = False  # the user stopped it before the end
    energy_trace: list[float] = field(default_factory=list)


def verified_available() -> bool:
    """Always True: the exact finish (`model.verified`) ships with the app. Kept until
    app/main.py's two callers drop it."""
    return True


def _neural_result(puzzle: np.ndarray, steps: list, ms: float):
    """The NeuralResult of an animated descent, chosen as `EnergyModel.solve` chooses: the
    lowest-energy step of the trace wins (not necessarily the last one shown)."""
    from model.runtime import NeuralResult

    winner = min(steps, key=lambda s: s.best_energy)
    grids_valid = [board.is_valid_solution(s.grid, puzzle) for s in steps]
    return NeuralResult(
        grid=np.asarray(winner.grid, dtype=np.int8).copy(),
        probs=np.asarray(winner.probs, dtype=np.float32).copy(),
        valid=board.is_valid_solution(winner.grid, puzzle),
        energy=float(winner.best_energy),
        energy_trace=[float(s.best_energy) for s in steps],
        steps=int(steps[-1].step),
        ms=float(ms),
        any_chain_valid=any(grids_valid),  # only the best chain of each step is visible here
        initial_valid=grids_valid[0],
    )


class DescentWorker(QObject):
    """Streams `model.descend(puzzle, settings)` one DescentStep at a time, paced for the eye.

    Control (from the GUI thread): `set_speed`, `pause`, `resume`, `step_once`, `stop`, and
    `ack` after each shown step. `finish=True` hands an invalid neural grid to the exact search.
    """

    # Each signal carries the run id first, so a window can ignore a run it has already reset.
    yielded = Signal(int, object)  # DescentStep
    returned = Signal(int, object)  # RunOutcome
    errored = Signal(int, str)
    finished = Signal(int)  # always last, after returned or errored

    def __init__(
        self,
        model,
        puzzle: np.ndarray,
        settings,
        steps_per_second: float = 0.0,
        finish: bool = True,
        start_paused: bool = False,
        run_id: int = 0,
        start: np.ndarray | None = None,
    ) -> None:
        """start: every chain's states where an earlier run of this puzzle ended (the last
        DescentStep's `states`): the run continues from there ("think longer")."""
        super().__init__()
        self.run_id = run_id
        self._start = start
        self._model = model
        self._puzzle = np.asarray(puzzle, dtype=np.int8).copy()
        self._settings = settings
        # Steps are numbered 0 (the initial decode) .. settings.steps.
        self._last_step = int(getattr(settings, "steps", 1 << 30))
        self._finish = finish
        self._cond = threading.Condition()
        self._interval = 0.0
        self._paused = start_paused
        self._tokens = 0  # single steps granted while paused
        self._stop = False
        self._in_flight = 0
        self.set_speed(steps_per_second)

    # --- control, from any thread -----------------------------------------------------------
    def set_speed(self, steps_per_second: float) -> None:
        """0 (or less) = as fast as the display keeps up."""
        with self._cond:
            self._interval = 1.0 / steps_per_second if steps_per_second > 0 else 0.0
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step_once(self) -> None:
        with self._cond:
            self._paused = True
            self._tokens += 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def ack(self) -> None:
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        with self._cond:
            return self._paused

    # --- the loop, in the worker thread -----------------------------------------------------
    def _wait_turn(self, due: float) -> bool:
        """Block until the next step may run; False when stopped."""
        with self._cond:
            while True:
                if self._stop:
                    return False
                if self._in_flight >= MAX_IN_FLIGHT:
                    self._cond.wait(0.1)
                    continue
                if self._paused:
                    if self._tokens > 0:
                        self._tokens -= 1
                        return True
                    self._cond.wait(0.25)
                    continue
                remaining = due - time.perf_counter()
                if remaining <= 0:
                    return True
                self._cond.wait(min(remaining, 0.25))

    @Slot()
    def run(self) -> None:
        outcome = RunOutcome(puzzle=self._puzzle.copy())
        steps: list = []
        try:
            iterator = self._model.descend(self._puzzle, self._settings, start=self._start)
            last_shown = 0.0
            while True:
                with self._cond:
                    interval = self._interval
                if not self._wait_turn(last_shown + interval):
                    outcome.stopped = True
                    break
                t0 = time.perf_counter()
                step = next(iterator, None)
                outcome.compute_ms += (time.perf_counter() - t0) * 1000.0
                if step is None:
                    break
                steps.append(step)
                last_shown = time.perf_counter()
                with self._cond:
                    self._in_flight += 1
                self.yielded.emit(self.run_id, step)
                if step.step >= self._last_step:
                    break  # the last step: the verdict follows now, not after one more Step
            outcome.steps = len(steps)
            if steps:
                outcome.last = steps[-1]
                outcome.energy_trace = [float(s.best_energy) for s in steps]
                outcome.neural = _neural_result(self._puzzle, steps, outcome.compute_ms)
            if self._finish and not outcome.stopped:
                t0 = time.perf_counter()
                outcome.verified = verified.finish_from_neural(
                    self._puzzle, outcome.neural, verified.VerifiedSettings(compare_plain=False)
                )
                outcome.compute_ms += (time.perf_counter() - t0) * 1000.0
            self.returned.emit(self.run_id, outcome)
        except Exception as exc:  # the GUI shows it; the thread must end cleanly regardless
            traceback.print_exc()
            self.errored.emit(self.run_id, f"{type(exc).__name__}: {exc}")
        finally:
            self.finished.emit(self.run_id)


class CallWorker(QObject):
    """Runs one call off the GUI thread (generating a puzzle, an exact search without a model)."""

    returned = Signal(int, object)
    errored = Signal(int, str)
    finished = Signal(int)

    def __init__(self, function: Callable[[], Any], run_id: int = 0) -> None:
        super().__init__()
        self.run_id = run_id
        self._function = function

    def stop(self) -> None:
        """One-shot calls cannot be interrupted; the owner waits for them."""

    @Slot()
    def run(self) -> None:
        try:
            self.returned.emit(self.run_id, self._function())
        except Exception as exc:
            self.errored.emit(self.run_id, f"{type(exc).__name__}: {exc}")
        finally:
            self.finished.emit(self.run_id)


class WorkerThread:
    """A worker and the QThread it runs in, kept alive together until the thread ends.

    Connect the worker's signals, then `start()`. `finished` quits the thread; `shutdown()` asks
    the worker to stop and waits, so closing the window never leaves a thread behind.
    """

    def __init__(self, worker: QObject) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(type(worker).__name__)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # Direct: quit from the worker thread itself, so it works even while the GUI thread waits.
        worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the worker and wait for its thread; True when it ended in time."""
        self.worker.stop()
        if not self.thread.isRunning():
            return True
        self.thread.quit()
        return bool(self.thread.wait(timeout_ms))
