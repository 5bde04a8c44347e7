"""Live plots of one training run: loss components, validation accuracy, z_context variance,
throughput. Fed with metrics.jsonl rows as they arrive (`append`), so a growing file costs only
its new rows; the curves are redrawn from per-key arrays, which stays cheap for tens of thousands
of rows."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

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


class LogAxis(pg.AxisItem):
    """A log axis that labels only 1, 2 and 5 times a power of ten: pyqtgraph labels every
    minor tick (0.6 0.7 0.8 0.9...), which piles the labels on top of each other."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (Qt-style override)
        strings = super().tickStrings(values, scale, spacing)
        if not self.logMode:
            return strings
        keep = []
        for value, text in zip(values, strings, strict=True):
            mantissa = 10 ** (value - math.floor(value + 1e-9))
            keep.append(text if any(abs(mantissa - k) < 1e-3 for k in (1, 2, 5)) else "")
        return keep


def coloured_title(title: str, series: list[tuple[str, str, str]]) -> str:
    """'Loss: total energy ...' with each name in its curve's colour: a legend that never
    covers a curve. Names are kept whole ("decode&nbsp;CE") so a wrapped title never splits one."""
    if len(series) < 2:
        return f"<b>{title}</b>"
    names = " &nbsp;".join(f"<span style='color:{c}'>{name.replace(' ', '&nbsp;')}</span>"
                           for _, name, c in series)
    return f"<b>{title}</b>: &nbsp;{names}"


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
        self.titles: list[QLabel] = []
        self.log_keys: set[str] = set()
        self.xs: dict[str, list[float]] = {}
        self.ys: dict[str, list[float]] = {}
        for index, (title, series, log_y) in enumerate(PANELS):
            plot = pg.PlotWidget(axisItems={"left": LogAxis("left")} if log_y else None)
            plot.setBackground((251, 250, 246))
            # The title is a wrapping QLabel, not the plot's own title: pyqtgraph's title has a
            # fixed width that pushed the plot's right quarter out of a narrow grid cell.
            label = QLabel(coloured_title(title, series))
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.titles.append(label)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            plot.setLabel("bottom", "step")
            for name in ("left", "bottom"):
                plot.getAxis(name).setPen(AXIS_PEN)
                plot.getAxis(name).setTextPen(AXIS_PEN)
            if log_y:
                plot.setLogMode(y=True)
            if title.startswith("Validation"):
                plot.setYRange(0, 1, padding=0.02)
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
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(0, 2, 0, 0)
            cell_layout.setSpacing(0)
            cell_layout.addWidget(label)
            cell_layout.addWidget(plot, 1)
            grid.addWidget(cell, index // 2, index % 2)
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
