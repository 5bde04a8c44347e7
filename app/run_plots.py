"""Live plots of one training run: loss components, validation accuracy, z_context variance,
throughput. Fed with metrics.jsonl rows as they arrive (`append`), so a growing file costs only
its new rows; the curves are redrawn from per-key arrays, which stays cheap for tens of thousands
of rows."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QWidget

# (title, [(metrics key, legend name, colour)], y log scale)
PANELS: tuple[tuple[str, list[tuple[str, str, str]], bool], ...] = (
    (
        "Loss",
        [
            ("loss", "total", "#222222"),
            ("loss_energy", "energy", "#1f77b4"),
            ("loss_vicreg", "VICReg", "#ff7f0e"),
            ("loss_ce", "decode CE", "#2ca02c"),
            ("loss_constraint", "constraint", "#d62728"),
        ],
        True,
    ),
    (
        "Validation accuracy",
        [("val_cell_acc", "cell", "#1f77b4"), ("val_puzzle_acc", "puzzle", "#d62728")],
        False,
    ),
    ("z_context variance", [("z_context_var", "variance", "#9467bd")], False),
    ("Samples / s", [("samples_per_s", "samples/s", "#8c564b")], False),
)
AXIS_PEN = pg.mkPen(color=(70, 74, 80))


class RunPlots(QWidget):
    """Four plots in a 2x2 grid sharing the step axis."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # pyqtgraph's exit cleanup deletes plot items behind PySide6 6.12's back (a segfault at
        # interpreter exit); Qt frees them itself. One PlotWidget per plot for the same reason:
        # plots inside one GraphicsLayoutWidget still crashed at exit now and then.
        pg.setConfigOptions(exitCleanup=False)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.plots: list[pg.PlotWidget] = []
        self.log_keys: set[str] = set()
        self.xs: dict[str, list[float]] = {}
        self.ys: dict[str, list[float]] = {}
        for index, (title, series, log_y) in enumerate(PANELS):
            plot = pg.PlotWidget()
            plot.setBackground((251, 250, 246))
            plot.setTitle(title, color=(40, 40, 40), size="10pt")
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            plot.setLabel("bottom", "step")
            for name in ("left", "bottom"):
                plot.getAxis(name).setPen(AXIS_PEN)
                plot.getAxis(name).setTextPen(AXIS_PEN)
            if len(series) > 1:
                plot.addLegend(offset=(-5, 5), labelTextSize="8pt", labelTextColor=(50, 50, 50))
            if log_y:
                plot.setLogMode(y=True)
            if self.plots:
                plot.setXLink(self.plots[0])
            for key, name, colour in series:
                symbol = "o" if key.startswith("val_") or key == "z_context_var" else None
                self.curves[key] = plot.plot(
                    [], [], name=name, pen=pg.mkPen(colour, width=1.5),
                    symbol=symbol, symbolSize=5, symbolBrush=colour, symbolPen=None,
                )
                self.xs[key], self.ys[key] = [], []
                if log_y:
                    self.log_keys.add(key)
            grid.addWidget(plot, index // 2, index % 2)
            self.plots.append(plot)

    def clear(self) -> None:
        for key, curve in self.curves.items():
            self.xs[key].clear()
            self.ys[key].clear()
            curve.setData([], [])

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Add metrics rows (each needs a numeric "step"); rows without a key leave a gap."""
        touched: set[str] = set()
        for row in rows:
            step = row.get("step")
            if not _is_number(step):
                continue
            for key in self.curves:
                value = row.get(key)
                if not _is_number(value) or not math.isfinite(value):
                    continue
                if key in self.log_keys and value <= 0:
                    continue  # a log axis cannot show it
                self.xs[key].append(float(step))
                self.ys[key].append(float(value))
                touched.add(key)
        for key in touched:
            self.curves[key].setData(self.xs[key], self.ys[key])

    def point_count(self, key: str) -> int:
        return len(self.xs.get(key, []))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
