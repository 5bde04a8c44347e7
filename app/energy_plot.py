"""Live plot of the descent: energy per chain (faint), the best chain (bold), and rule violations.

Two stacked pyqtgraph plots share the step axis, so the energy falling and the conflicts
disappearing can be read against each other. No grid lines: they doubled the cost of a repaint
(~8 -> ~18 ms on a busy 2-core machine) while the descent streams.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

_CHAIN_PEN = pg.mkPen(color=(31, 95, 191, 70), width=1)
_BEST_PEN = pg.mkPen(color=(31, 95, 191), width=3)
_VIOLATION_PEN = pg.mkPen(color=(192, 34, 27), width=2)
_VIOLATION_BRUSH = pg.mkBrush(192, 34, 27, 40)
_AXIS_PEN = pg.mkPen(color=(70, 74, 80))


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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._canvas)

        self.energy_plot = self._canvas.addPlot(row=0, col=0)
        self.energy_plot.setLabel("left", "energy")
        self.energy_plot.setMenuEnabled(False)
        self.energy_plot.addLegend(offset=(-10, 10), labelTextColor=(50, 50, 50))
        self.violation_plot = self._canvas.addPlot(row=1, col=0)
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
            plot.getAxis("left").setWidth(48)
            plot.getAxis("left").enableAutoSIPrefix(False)  # "energy (x0.001)" read badly

        self.best_curve = self.energy_plot.plot([], [], pen=_BEST_PEN, name="best chain")
        self.best_curve.setZValue(10)
        self.energy_plot.setXRange(0, 10, padding=0.02)
        self.violation_plot.setYRange(0, 10, padding=0.02)
        self.violation_curve = self.violation_plot.plot(
            [], [], pen=_VIOLATION_PEN, fillLevel=0, brush=_VIOLATION_BRUSH
        )
        self._chain_curves: list[pg.PlotDataItem] = []
        self._steps: list[int] = []
        self._chains: list[np.ndarray] = []  # each (chains,)
        self._best: list[float] = []
        self._violations: list[int] = []

    def reset(self, total_steps: int | None = None) -> None:
        """Clear the curves; with `total_steps` the step axis spans the whole run from the start."""
        for curve in self._chain_curves:
            self.energy_plot.removeItem(curve)
        self._chain_curves.clear()
        self._steps.clear()
        self._chains.clear()
        self._best.clear()
        self._violations.clear()
        self.best_curve.setData([], [])
        self.violation_curve.setData([], [])
        self.energy_plot.setXRange(0, max(1, total_steps or 10), padding=0.02)
        self.energy_plot.enableAutoRange(axis="y")
        self.violation_plot.enableAutoRange(axis="y")

    def point_count(self) -> int:
        """How many steps are plotted (the tests read it)."""
        return len(self._steps)

    def add_step(
        self, step: int, energies: np.ndarray, best_energy: float, violations: int, redraw=True
    ) -> None:
        """Record one step; `energies` is (chains,). Redraw now unless told to wait."""
        self._steps.append(int(step))
        self._chains.append(np.asarray(energies, dtype=np.float64).reshape(-1))
        self._best.append(float(best_energy))
        self._violations.append(int(violations))
        if redraw:
            self.redraw()

    def redraw(self) -> None:
        if not self._steps:
            return
        x = np.asarray(self._steps, dtype=np.float64)
        width = min(len(c) for c in self._chains)
        chains = np.stack([c[:width] for c in self._chains])  # (T, chains)
        while len(self._chain_curves) < width:
            name = "each chain" if not self._chain_curves else None
            curve = self.energy_plot.plot([], [], pen=_CHAIN_PEN, name=name)
            curve.setZValue(1)
            self._chain_curves.append(curve)
        for index, curve in enumerate(self._chain_curves):
            if index < width:
                curve.setData(x, chains[:, index])
            else:
                curve.setData([], [])
        self.best_curve.setData(x, np.asarray(self._best))
        self.violation_curve.setData(x, np.asarray(self._violations, dtype=np.float64))
        # Conflicts are counts >= 0: a fixed floor, so all-zero runs do not centre on zero.
        self.violation_plot.setYRange(0, max(1, max(self._violations)), padding=0.05)

    def best_energies(self) -> list[float]:
        return list(self._best)
