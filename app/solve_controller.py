"""Runs the solver for the window: Solve / Step / Pause / Reset over one background job.

It owns at most one job (an animated descent, or an exact search when no model is loaded),
feeds each step to the board and the plot, and turns the end of a run into a verdict. Every
signal a job sends carries its run id; after a reset the old id is stale and ignored.
"""

from __future__ import annotations

import sys

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.board_model import BoardState
from app.board_view import BoardView
from app.energy_plot import EnergyPlot
from app.solution_check import wrong_count
from app.solver_panel import SolverPanel
from app.verdict import RED, describe_outcome, describe_search_only
from app.workers import CallWorker, DescentWorker, WorkerThread, verified_available
from model import board
from model.runtime import DescentSettings

NO_MODEL = "no model loaded: train one or open a model"
FRAME_MS = 33  # at most ~30 redraws a second, however fast the steps come


class SolveController(QObject):
    step_shown = Signal(object)  # a DescentStep, once the board and the plot show it
    run_finished = Signal(object)  # RunOutcome, or the VerifiedResult of a model-free search
    verdict_changed = Signal(str)  # rich text for the verdict line
    status = Signal(str)  # a transient status-bar message
    problem = Signal(str, str)  # (title, text): something the user should be told
    busy_changed = Signal()

    def __init__(self, state: BoardState, view: BoardView, plot: EnergyPlot,
                 panel: SolverPanel) -> None:
        super().__init__(view)  # dies with the board, so its frame timer can never outlive it
        self.state, self.view, self.plot, self.panel = state, view, plot, panel
        self.model = None  # an EnergyModel, set by the window
        self.outcome = None  # the last finished run's RunOutcome (or VerifiedResult)
        self._job: WorkerThread | None = None
        self._kind = ""  # "descent" | "search" while a job runs
        self._run_id = 0
        self._last_step = None
        self._end_states: tuple[np.ndarray, np.ndarray] | None = None  # (puzzle, states)
        self._solution = None  # the puzzle's solution, when exact search finds a unique one
        # Steps may arrive faster than a screen refresh: draw at most one frame per tick.
        self._frame_timer = QTimer(self)
        self._frame_timer.setSingleShot(True)
        self._frame_timer.setInterval(FRAME_MS)
        self._frame_timer.timeout.connect(self._draw_frame)
        panel.solve_requested.connect(self.solve)
        panel.step_requested.connect(self.step)
        panel.pause_requested.connect(self.pause)
        panel.reset_requested.connect(self.reset)
        panel.speed_changed.connect(self._on_speed)

    # --- state --------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._job is not None

    def is_descending(self) -> bool:
        """A descent is live (running or paused): the puzzle is locked."""
        return self._kind == "descent"

    def panel_state(self) -> str:
        if self._kind == "descent":
            return "paused" if self._job.worker.paused else "running"
        return "busy" if self._kind else "idle"

    def descent_settings(self) -> DescentSettings:
        values = self.panel.values()
        return DescentSettings(
            steps=int(values["steps"]), chains=int(values["chains"]),
            step_size=float(values["step_size"]), noise=float(values["noise"]),
            seed=int(values["seed"]),
        )

    # --- requests -----------------------------------------------------------------------------
    def solve(self) -> None:
        """Start a run, or continue a paused one."""
        if self._kind == "descent":
            self._job.worker.resume()
            self._live_verdict()
            self.busy_changed.emit()
        elif self._job is None:
            self._start(paused=False)

    def step(self) -> None:
        """One step; starts a paused run when none is live."""
        if self._kind == "descent":
            self._job.worker.step_once()
            self._live_verdict()
            self.busy_changed.emit()
        elif self._job is None and self._start(paused=True):
            self._job.worker.step_once()

    def pause(self) -> None:
        if self._kind == "descent":
            self._job.worker.pause()
            self.status.emit("Paused: Continue (F5) runs on, Step (F6) advances one step")
            self._live_verdict()
            self.busy_changed.emit()

    def _live_verdict(self) -> None:
        """The verdict line while a descent is live: running, or paused at which step."""
        if self._kind != "descent":
            return
        if not self._job.worker.paused:
            self.verdict_changed.emit("Descending...")
            return
        total = int(self.panel.values()["steps"])
        where = ("at the start" if self._last_step is None
                 else f"at step {self._last_step.step}/{total}")
        self.verdict_changed.emit(
            f"Paused {where}: Step (F6) advances one step, Continue (F5) runs on")

    def reset(self) -> None:
        """Stop any run and clear the solver's view (the puzzle stays)."""
        self.stop()
        self._end_states = None  # Reset starts the next solve from the puzzle again
        self.state.clear_overlay()
        self.plot.reset()
        self.outcome = None
        self.view.update()

    def stop(self, timeout_ms: int = 10000) -> None:
        """End the job (if any) and wait for its thread; whatever it still sends is ignored."""
        job = self._job
        self._job, self._kind = None, ""
        self._run_id += 1
        self._frame_timer.stop()  # a pending frame would draw on a board that may be gone
        if job is not None:
            if not job.shutdown(timeout_ms):
                print(f"warning: a worker thread did not stop within {timeout_ms} ms",
                      file=sys.stderr)
            self.busy_changed.emit()

    # --- starting a job -----------------------------------------------------------------------
    def _refuse_clash(self) -> bool:
        try:
            board.check_givens(self.state.puzzle)
        except board.PuzzleError as exc:
            self.problem.emit(
                "The solver refuses this puzzle",
                f"The givens contradict each other: {exc}. Fix the highlighted cells first.",
            )
            self.verdict_changed.emit(f"<span style='color:{RED}'>Givens clash: {exc}. "
                                      "Fix the highlighted cells first.</span>")
            return True
        return False

    def _continuation(self, settings: DescentSettings) -> np.ndarray | None:
        """The states an unsolved run of this same puzzle ended in, with the same chain count:
        a second Solve continues from there instead of starting over."""
        kept = self._end_states
        if kept is None:
            return None
        puzzle, states = kept
        if not np.array_equal(puzzle, self.state.puzzle) or states.shape[0] != settings.chains:
            return None
        return states

    def _start(self, paused: bool) -> bool:
        if self._refuse_clash():
            return False
        settings = self.descent_settings()
        start = None if paused else self._continuation(settings)
        self._end_states = None
        self.state.clear_overlay()
        self.plot.reset(int(self.panel.values()["steps"]))
        self.outcome = None
        self._last_step = None
        puzzle = self.state.puzzle
        self._solution = self.state.solution()  # < 1 ms: every step is counted against it
        self._run_id += 1
        if self.model is None:
            if not verified_available():
                self.problem.emit("Solve", NO_MODEL.capitalize() + ".")
                return False
            from model import verified

            worker = CallWorker(
                lambda: verified.finish_from_neural(
                    puzzle, None, verified.VerifiedSettings(compare_plain=False)),
                self._run_id,
            )
            worker.returned.connect(self._on_search_outcome)
            self.verdict_changed.emit("Searching (no model loaded: exact search alone)...")
            self._launch("search", worker)
            return False
        worker = DescentWorker(
            self.model, puzzle, settings, self.panel.speed(),
            finish=self.panel.exact_finish.isChecked() and verified_available(),
            start_paused=paused, run_id=self._run_id, start=start,
        )
        worker.yielded.connect(self._on_step)
        worker.returned.connect(self._on_outcome)
        self._launch("descent", worker)
        self._live_verdict()
        if start is not None:
            self.status.emit("Thinking longer: continuing from where the last run stopped")
        return True

    def _launch(self, kind: str, worker) -> None:
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        self._job, self._kind = WorkerThread(worker), kind
        self._job.start()
        self.busy_changed.emit()

    # --- what jobs report (queued into the GUI thread) ----------------------------------------
    def _on_speed(self, steps_per_second: float) -> None:
        if self._kind == "descent":
            self._job.worker.set_speed(steps_per_second)

    def _on_step(self, run_id: int, step) -> None:
        if run_id != self._run_id or self._kind != "descent":
            return
        self.state.show_step(step.grid, step.probs, step.changed)
        if step.states is not None:  # the last step: where a second Solve would continue
            self._end_states = (self.state.puzzle.copy(), step.states)
        wrong = wrong_count(step.grid, self._solution, self.state.puzzle)
        self.plot.add_step(step.step, step.energies, step.best_energy, step.violations,
                           redraw=False, wrong=wrong)
        self._last_step = step
        self._job.worker.ack()
        if not self._frame_timer.isActive():
            self._frame_timer.start()
        if self._job.worker.paused:
            self._live_verdict()  # "Paused at step 3/6", not the stale "at the start"
        self.step_shown.emit(step)

    def _draw_frame(self) -> None:
        """Show the latest step: board, plot and the status line."""
        self.view.update()
        step = self._last_step
        if step is not None:
            self.plot.mark_step(step.step)  # the board shows this step's grid
        self.plot.redraw()
        if step is not None and self.state.overlay is not None and not self.state.overlay.final:
            self.status.emit(
                f"step {step.step}/{self.panel.values()['steps']}   energy "
                f"{step.best_energy:.4f}   conflicting cells {step.violations}   "
                f"changed {int(np.count_nonzero(step.changed))}"
            )

    def _on_outcome(self, run_id: int, outcome) -> None:
        if run_id != self._run_id:
            return
        self.outcome = outcome
        if outcome.neural is not None and outcome.neural.valid:
            self._end_states = None  # solved by the network: nothing to continue
        self._frame_timer.stop()
        # The board ends on the lowest-energy step (the verdict's grid), not the last one.
        self.plot.mark_step(self.plot.lowest_energy_step())
        self.plot.redraw()
        text, colour, grid, probs, source = describe_outcome(outcome, self.state.puzzle,
                                                             self._solution)
        if grid is not None:
            self.state.show_final(grid, probs, source)
        self.verdict_changed.emit(f"<span style='color:{colour}'>{text}</span>")
        self.status.emit(text.replace("<b>", "").replace("</b>", ""))
        self.view.update()
        self.run_finished.emit(outcome)

    def _on_search_outcome(self, run_id: int, result) -> None:
        if run_id != self._run_id:
            return
        self.outcome = result
        text, colour, grid, source = describe_search_only(result)
        if grid is not None:
            self.state.show_final(grid, None, source)
        self.verdict_changed.emit(f"<span style='color:{colour}'>{text}</span>")
        self.view.update()
        self.run_finished.emit(result)

    def _on_error(self, run_id: int, message: str) -> None:
        if run_id != self._run_id:
            return
        self.problem.emit("The solver failed", message)
        self.verdict_changed.emit(f"<span style='color:{RED}'>Failed: {message}</span>")

    def _on_finished(self, run_id: int) -> None:
        if run_id != self._run_id or self._job is None:
            return
        job = self._job
        self._job, self._kind = None, ""
        job.thread.wait(5000)
        self.busy_changed.emit()
