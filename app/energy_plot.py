"""Live plot of the descent: energy per chain (faint), the best chain (bold), and rule violations.

Two stacked pyqtgraph plots share the step axis, so the energy falling and the conflicts
disappearing can be read against each other. No grid lines: they doubled the cost of a repaint
(~8 -> ~18 ms on a busy 2-core machine) while the descent streams.

The energy axis is never auto-ranged onto noise: its span is at least MIN_ENERGY_SPAN, so a run
whose energy wobbles by 0.0003 draws a flat line, not a dramatic descent.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

_CHAIN_PEN = pg.mkPen(color=(31, 95, 191, 70), width=1)
_BEST_PEN = pg.mkPen(color=(31, 95, 191), width=3)
_VIOLATION_PEN = pg.mkPen(color=(192, 34, 27), width=2)
_VIOLATION_BRUSH = pg.mkBrush(192, 34, 27, 40)
_AXIS_PEN = pg.mkPen(color=(70, 74, 80))
_WRONG_PEN = pg.mkPen(color=(120, 60, 160), width=2, style=Qt.PenStyle.DashLine)
_MARKER_PEN = pg.mkPen(color=(240, 140, 0), width=2)
MIN_ENERGY_SPAN = 0.01  # the smallest energy range the axis shows (the shipped model's noise
#                         moves the energy by ~0.0003 around 0.03)


class SparseAxis(pg.AxisItem):
    """Major ticks only, at most one label per ~2 text lines of axis (a short plot stacked five
    labels into one blur); `whole=True` ticks whole numbers only (a count of cells has no 0.2)."""

    def __init__(self, orientation: str, whole: bool = False) -> None:
        super().__init__(orientation)
        self.whole = whole

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph override)
        levels = super().tickSpacing(minVal, maxVal, size)
        spacing, offset = levels[0] if levels else (1.0, 0.0)
        if self.whole:
            spacing = max(1.0, float(round(spacing)))
        room = max(1.0, size / (2.2 * QFontMetrics(self.font()).height()))
        span = abs(maxVal - minVal)
        for factor in (2, 2.5, 2) * 20:  # 1-2-5 steps up until the labels fit
            if spacing <= 0 or span / spacing <= room:
                break
            spacing *= factor
        return [(spacing, offset)]


def energy_range(values: np.ndarray, min_span: float = MIN_ENERGY_SPAN) -> tuple[float, float]:
    """(low, high) of the energy axis: the data with 5% padding, widened around its middle to
    at least `min_span` so noise is not magnified into a descent."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, min_span
    low, high = float(finite.min()), float(finite.max())
    pad = 0.05 * (high - low)
    low, high = low - pad, high + pad
    if high - low < min_span:
        middle = 0.5 * (low + high)
        low, high = middle - 0.5 * min_span, middle + 0.5 * min_span
    return low, high


class EnergyPlot(QWidget):
    """Call `reset()` before a run and `add_step(...)` for every DescentStep."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._canvas = pg.GraphicsLayoutWidget()
        self._canvas.setBackground((251, 250, 246))
        self._canvas.setToolTip(
            "Inference energy of every Langevin chain (faint) and of the best chain (bold); "
            "below: cells that break a rule in the best chain's grid."
        )
        # The legend is a line of text above the plot, not a box inside it: an honest (flat)
        # energy curve runs right through the middle, where a legend box would hide it.
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._set_legend(wrong=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.legend)
        layout.addWidget(self._canvas, 1)

        self.energy_plot = self._canvas.addPlot(row=0, col=0,
                                                axisItems={"left": SparseAxis("left")})
        self.energy_plot.setLabel("left", "energy")
        self.energy_plot.setMenuEnabled(False)
        self.violation_plot = self._canvas.addPlot(
            row=1, col=0, axisItems={"left": SparseAxis("left", whole=True)})
        self.violation_plot.setLabel("left", "conflicts")
        self.violation_plot.setLabel("bottom", "step")
        self.violation_plot.setMenuEnabled(False)
        self.violation_plot.setXLink(self.energy_plot)
        self._canvas.ci.layout.setRowStretchFactor(0, 3)
        self._canvas.ci.layout.setRowStretchFactor(1, 1)
        for plot in (self.energy_plot, self.violation_plot):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(_AXIS_PEN)
                axis.setTextPen(_AXIS_PEN)
            plot.getAxis("left").enableAutoSIPrefix(False)  # "energy (x0.001)" read badly
        # One width for both left axes (so the step axes line up), wide enough for a tick label
        # such as "-0.0312" beside the rotated axis title: a fixed 48 px overlapped them.
        metrics = self.fontMetrics()
        axis_width = metrics.horizontalAdvance("-0.0000") + metrics.height() + 14
        for plot in (self.energy_plot, self.violation_plot):
            plot.getAxis("left").setWidth(axis_width)
        self.energy_plot.disableAutoRange(axis="y")
        self.violation_plot.disableAutoRange()
        # Where the board's grid comes from: the latest step while running, the winning step
        # (lowest energy) at the end.
        self.shown_marker = pg.InfiniteLine(angle=90, movable=False, pen=_MARKER_PEN)
        self.shown_marker.setZValue(20)
        self.shown_marker.setVisible(False)
        self.energy_plot.addItem(self.shown_marker, ignoreBounds=True)

        self.best_curve = self.energy_plot.plot([], [], pen=_BEST_PEN)
        self.best_curve.setZValue(10)
        self.energy_plot.setXRange(0, 10, padding=0.02)
        self.violation_plot.setYRange(0, 10, padding=0.02)
        self.violation_curve = self.violation_plot.plot(
            [], [], pen=_VIOLATION_PEN, fillLevel=0, brush=_VIOLATION_BRUSH, name="in conflict"
        )
        self.wrong_curve = self.violation_plot.plot([], [], pen=_WRONG_PEN, name="wrong")
        self.wrong_curve.setVisible(False)
        self._wrong: list[int] = []  # wrong cells per step (against the known solution)
        self._shown_step: int | None = None
        self._chain_curves: list[pg.PlotDataItem] = []
        self._steps: list[int] = []
        self._chains: list[np.ndarray] = []  # each (chains,)
        self._best: list[float] = []
        self._violations: list[int] = []

    def reset(self, total_steps: int | None = None) -> None:
        """Clear the curves and the old ranges; with `total_steps` the step axis spans the whole
        run from the start."""
        for curve in self._chain_curves:
            self.energy_plot.removeItem(curve)
        self._chain_curves.clear()
        self._steps.clear()
        self._chains.clear()
        self._best.clear()
        self._violations.clear()
        self._wrong.clear()
        self._shown_step = None
        self.shown_marker.setVisible(False)
        self.best_curve.setData([], [])
        self.violation_curve.setData([], [])
        self.wrong_curve.setData([], [])
        self.energy_plot.setXRange(0, max(1, total_steps or 10), padding=0.02)
        # No data, no range: an empty axis must not keep the last run's numbers.
        self.energy_plot.setYRange(0.0, MIN_ENERGY_SPAN, padding=0)
        self.violation_plot.setYRange(0, 1, padding=0.05)

    def point_count(self) -> int:
        """How many steps are plotted (the tests read it)."""
        return len(self._steps)

    def energy_y_range(self) -> tuple[float, float]:
        """The energy axis's visible range (the tests read it)."""
        low, high = self.energy_plot.viewRange()[1]
        return float(low), float(high)

    def _set_legend(self, wrong: bool) -> None:
        items = [("#1f5fbf", "&#9473;", "best chain"), ("#8fafdf", "&#9472;", "each chain"),
                 ("#f08c00", "&#9474;", "step on the board"), ("#c0221b", "&#9608;", "conflicts")]
        if wrong:
            items.append(("#7840a0", "&#9476;", "wrong cells"))
        self.legend.setText(" &nbsp; ".join(
            f"<span style='color:{colour}'>{mark}</span>&nbsp;{name.replace(' ', '&nbsp;')}"
            for colour, mark, name in items))

    def set_wrong_visible(self, visible: bool) -> None:
        """Show or hide the wrong-cells series (cells that differ from the known solution)."""
        self.wrong_curve.setVisible(visible)
        self._set_legend(wrong=visible)
        self.violation_plot.setLabel("left", "cells" if visible else "conflicts")
        self.redraw()

    def add_step(
        self, step: int, energies: np.ndarray, best_energy: float, violations: int, redraw=True,
        wrong: int | None = None,
    ) -> None:
        """Record one step; `energies` is (chains,); `wrong` counts the best chain's cells that
        differ from the solution, when it is known. Redraw now unless told to wait."""
        self._steps.append(int(step))
        self._chains.append(np.asarray(energies, dtype=np.float64).reshape(-1))
        self._best.append(float(best_energy))
        self._violations.append(int(violations))
        if wrong is not None:
            self._wrong.append(int(wrong))
        if redraw:
            self.redraw()

    def mark_step(self, step: int | None) -> None:
        """Mark the step whose grid the board shows (None: no marker)."""
        self._shown_step = step
        self.shown_marker.setVisible(step is not None)
        if step is not None:
            self.shown_marker.setValue(step)

    def lowest_energy_step(self) -> int | None:
        """The step whose best chain has the lowest energy (the first one on a tie), as
        `_neural_result` picks the grid a run ends on."""
        if not self._best:
            return None
        return self._steps[int(np.argmin(self._best))]

    def shown_step(self) -> int | None:
        return self._shown_step

    def wrong_counts(self) -> list[int]:
        return list(self._wrong)

    def redraw(self) -> None:
        if not self._steps:
            return
        x = np.asarray(self._steps, dtype=np.float64)
        width = min(len(c) for c in self._chains)
        chains = np.stack([c[:width] for c in self._chains])  # (T, chains)
        while len(self._chain_curves) < width:
            curve = self.energy_plot.plot([], [], pen=_CHAIN_PEN)
            curve.setZValue(1)
            self._chain_curves.append(curve)
        for index, curve in enumerate(self._chain_curves):
            if index < width:
                curve.setData(x, chains[:, index])
            else:
                curve.setData([], [])
        best = np.asarray(self._best)
        self.best_curve.setData(x, best)
        self.energy_plot.setYRange(*energy_range(np.concatenate([chains.ravel(), best])),
                                   padding=0)
        self.violation_curve.setData(x, np.asarray(self._violations, dtype=np.float64))
        top = max(self._violations)
        if len(self._wrong) == len(self._steps):
            self.wrong_curve.setData(x, np.asarray(self._wrong, dtype=np.float64))
            if self.wrong_curve.isVisible():
                top = max(top, max(self._wrong))
        # Conflicts are counts >= 0: a fixed floor, so all-zero runs do not centre on zero.
        self.violation_plot.setYRange(0, max(1, top), padding=0.05)

    def best_energies(self) -> list[float]:
        return list(self._best)
