"""Solver controls: Solve / Step / Pause / Reset, the speed slider, descent settings, the view.

The panel only emits requests and shows state; the main window runs the solver.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.board_view import VIEW_DIGITS, VIEW_PROBABILITIES
from app.settings import SOLVER_FIELDS

MAX_SPEED = 61  # slider position meaning "as fast as it goes"
LOG_STEPS_MAX = 10  # the steps slider runs over 2**0 .. 2**10 = 1..1024


def steps_for_position(position: int) -> int:
    return 2 ** max(0, min(LOG_STEPS_MAX, position))


def position_for_steps(steps: int) -> int:
    """The slider position nearest to `steps` on the log scale."""
    return max(0, min(LOG_STEPS_MAX, round(math.log2(max(1, steps)))))

# idle: nothing running; running / paused: a descent is live; busy: a one-shot job (no pause)
STATES = ("idle", "running", "paused", "busy")


def speed_label(position: int) -> str:
    if position >= MAX_SPEED:
        return "max"
    return "1 step/s" if position == 1 else f"{position} steps/s"


def steps_per_second(position: int) -> float:
    """Slider position -> steps per second; 0 means unpaced."""
    return 0.0 if position >= MAX_SPEED else float(max(1, position))


class SolverPanel(QWidget):
    solve_requested = Signal()
    step_requested = Signal()
    pause_requested = Signal()
    reset_requested = Signal()
    speed_changed = Signal(float)  # steps per second, 0 = max
    view_mode_changed = Signal(str)
    check_solution_changed = Signal(bool)
    defaults_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        buttons = QGridLayout()
        self.solve_button = QPushButton("Solve")
        self.solve_button.setToolTip("Run the energy descent to the end (F5); resumes when paused")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("One Langevin step (F6); starts a paused run if none is live")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause the descent (F7); Solve or Step continue it")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Stop the run and clear the solver's digits (Esc)")
        for index, button in enumerate(
            (self.solve_button, self.step_button, self.pause_button, self.reset_button)
        ):
            button.setMinimumHeight(30)
            buttons.addWidget(button, 0, index)
        self.solve_button.setDefault(True)
        layout.addLayout(buttons)
        # Everything below the buttons scrolls, so a small window keeps the buttons on screen.
        settings = QWidget()
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll_area.setWidget(settings)
        self.scroll_area.setMinimumHeight(60)
        layout.addWidget(self.scroll_area, 1)
        layout = QVBoxLayout(settings)
        layout.setContentsMargins(0, 0, 4, 0)
        self.solve_button.clicked.connect(self.solve_requested)
        self.step_button.clicked.connect(self.step_requested)
        self.pause_button.clicked.connect(self.pause_requested)
        self.reset_button.clicked.connect(self.reset_requested)

        speed_row = QHBoxLayout()
        speed_row.addWidget(QLabel("Speed"))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(1, MAX_SPEED)
        self.speed_slider.setValue(12)
        self.speed_slider.setToolTip("Steps shown per second; far right = as fast as it runs")
        self.speed_value = QLabel(speed_label(12))
        self.speed_value.setMinimumWidth(self.speed_value.fontMetrics().horizontalAdvance(
            speed_label(MAX_SPEED - 1)) + 4)
        speed_row.addWidget(self.speed_slider, 1)
        speed_row.addWidget(self.speed_value)
        layout.addLayout(speed_row)
        self.speed_slider.valueChanged.connect(self._on_speed)

        view_row = QHBoxLayout()
        view_row.addWidget(QLabel("Show"))
        self.view_probabilities = QRadioButton("probabilities")
        self.view_probabilities.setToolTip("Empty cells show all 9 digit probabilities (P)")
        self.view_digits = QRadioButton("digits")
        self.view_digits.setToolTip("Empty cells show the model's most likely digit (D)")
        self.view_probabilities.setChecked(True)
        self._view_group = QButtonGroup(self)
        self._view_group.addButton(self.view_probabilities)
        self._view_group.addButton(self.view_digits)
        view_row.addWidget(self.view_probabilities)
        view_row.addWidget(self.view_digits)
        view_row.addStretch(1)
        layout.addLayout(view_row)
        self.check_solution = QCheckBox("Check against the solution")
        self.check_solution.setToolTip(
            "Mark the solver's cells that differ from the puzzle's solution (found by exact\n"
            "search) in purple, and plot how many there are at each step")
        self.check_solution.toggled.connect(self.check_solution_changed)
        layout.addWidget(self.check_solution)
        self.view_probabilities.toggled.connect(self._on_view)

        group = QGroupBox("Descent settings")
        form = QFormLayout(group)
        self.steps = QSpinBox()
        self.steps.setToolTip("Langevin steps after the initial decode")
        self.chains = QSpinBox()
        self.chains.setToolTip("Parallel chains; the lowest-energy one is shown")
        self.step_size = QDoubleSpinBox()
        self.step_size.setDecimals(6)  # a learned step size, kept exactly as the file stores it
        self.step_size.setSingleStep(0.01)
        self.step_size.setToolTip("Step size of each solve step (the model file's default is "
                                  "the trained one)")
        self.noise = QDoubleSpinBox()
        self.noise.setDecimals(4)
        self.noise.setSingleStep(0.01)
        self.noise.setToolTip("Noise added to each chain's state, annealed to 0 (0 = none)")
        self.seed = QSpinBox()
        self.seed.setToolTip("Random seed of the chains' noise: the same seed repeats a run")
        self._fields = {
            "steps": self.steps,
            "chains": self.chains,
            "step_size": self.step_size,
            "noise": self.noise,
            "seed": self.seed,
        }
        for name, widget in self._fields.items():
            _, low, high = SOLVER_FIELDS[name]
            widget.setRange(low, high)
        # Think longer: a log-scale slider over 1..1024 steps beside the exact number.
        self.steps_slider = QSlider(Qt.Orientation.Horizontal)
        self.steps_slider.setRange(0, LOG_STEPS_MAX)
        self.steps_slider.setToolTip("Steps on a log scale: 1, 2, 4, ... 1024")
        self.steps_slider.valueChanged.connect(self._on_steps_slider)
        self.steps.valueChanged.connect(self._on_steps_box)
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps, 1)
        steps_row.addWidget(self.steps_slider, 2)
        form.addRow("Steps", steps_row)
        form.addRow("Chains", self.chains)
        form.addRow("Step size", self.step_size)
        form.addRow("Noise", self.noise)
        form.addRow("Seed", self.seed)
        self.exact_finish = QCheckBox("Exact finish when the network's grid breaks a rule")
        self.exact_finish.setChecked(True)
        self.exact_finish.setToolTip(
            "After the descent, an exact search guided by the model's probabilities completes\n"
            "any grid the network got wrong (its cells are drawn in orange)"
        )
        form.addRow(self.exact_finish)
        self.defaults_button = QPushButton("Model defaults")
        self.defaults_button.setToolTip("Reset the settings to the ones stored in the model")
        self.defaults_button.clicked.connect(self.defaults_requested)
        form.addRow(self.defaults_button)
        layout.addWidget(group)

        legend = QLabel(
            "<b>bold</b>: puzzle &nbsp; <span style='color:#1f5fbf'>blue</span>: model &nbsp; "
            "<span style='color:#c25400'>orange</span>: search &nbsp; "
            "<span style='color:#c0221b'>red</span>: breaks a rule &nbsp; "
            "<span style='color:#f08c00'>&#9698;</span> changed last step"
        )
        legend.setWordWrap(True)
        layout.addWidget(legend)
        layout.addStretch(1)
        self.set_state("idle")

    # --- settings ---------------------------------------------------------------------------
    def values(self) -> dict[str, float]:
        return {name: widget.value() for name, widget in self._fields.items()}

    def set_values(self, values: dict[str, float]) -> None:
        for name, widget in self._fields.items():
            if name in values:
                widget.setValue(values[name])

    def speed(self) -> float:
        return steps_per_second(self.speed_slider.value())

    def view_mode(self) -> str:
        return VIEW_PROBABILITIES if self.view_probabilities.isChecked() else VIEW_DIGITS

    def set_view_mode(self, mode: str) -> None:
        (self.view_probabilities if mode == VIEW_PROBABILITIES else self.view_digits).setChecked(
            True
        )

    # --- state ------------------------------------------------------------------------------
    def set_state(self, state: str, can_solve: bool = True) -> None:
        """Enable what makes sense: `state` is one of STATES."""
        if state not in STATES:
            raise ValueError(f"unknown solver state {state!r}")
        live = state in ("running", "paused")
        self.solve_button.setText("Continue" if state == "paused" else "Solve")
        self.solve_button.setEnabled(can_solve and state in ("idle", "paused"))
        self.step_button.setEnabled(can_solve and state in ("idle", "paused"))
        self.pause_button.setEnabled(state == "running")
        self.reset_button.setEnabled(True)
        for widget in (*self._fields.values(), self.steps_slider):
            widget.setEnabled(not live and state != "busy")
        self.defaults_button.setEnabled(not live and state != "busy")

    def _on_steps_slider(self, position: int) -> None:
        if position_for_steps(self.steps.value()) != position:  # not an echo of the box
            self.steps.setValue(steps_for_position(position))

    def _on_steps_box(self, steps: int) -> None:
        self.steps_slider.blockSignals(True)
        self.steps_slider.setValue(position_for_steps(steps))
        self.steps_slider.blockSignals(False)

    def _on_speed(self, position: int) -> None:
        self.speed_value.setText(speed_label(position))
        self.speed_changed.emit(steps_per_second(position))

    def _on_view(self) -> None:
        self.view_mode_changed.emit(self.view_mode())
