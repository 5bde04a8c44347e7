"""Render a run's validation curves (accuracy against training minutes) to a PNG for the model card.

Usage: python benchmarks/plot_curves.py runs/cpu-main/metrics.jsonl assets/training_curves.png
Runs offscreen; reads only complete JSON lines, like the app's training panel.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg  # noqa: E402
import pyqtgraph.exporters  # noqa: E402,F401
from PySide6.QtWidgets import QApplication  # noqa: E402

CURVES = [  # (metrics key, label, colour)
    ("val_easy_puzzle_acc", "easy 30-40 givens: puzzle acc", "#2e7d32"),
    ("val_hard_puzzle_acc", "hard 17-25 givens: puzzle acc", "#c62828"),
    ("val_puzzle_acc", "all validation: puzzle acc", "#1565c0"),
    ("val_cell_acc", "all validation: cell acc", "#6a1b9a"),
]


def read_rows(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a partial last line of a live run
    return [r for r in rows if "val_puzzle_acc" in r]


def accuracy_plot(x_label: str, y_label: str, legend_offset: tuple[int, int]) -> pg.PlotWidget:
    """A white 900 x 520 plot with accuracy (0..1) up the side: the model card's plots."""
    QApplication.instance() or QApplication([])  # pyqtgraph needs one
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    plot = pg.PlotWidget()
    plot.resize(900, 520)
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.setYRange(0, 1)
    plot.showGrid(x=True, y=True, alpha=0.3)
    plot.addLegend(offset=legend_offset)
    return plot


def save_png(plot: pg.PlotWidget, out: Path) -> None:
    exporter = pg.exporters.ImageExporter(plot.plotItem)
    exporter.parameters()["width"] = 900
    exporter.export(str(out))


def main(argv: list[str]) -> int:
    metrics, out = Path(argv[0]), Path(argv[1])
    rows = read_rows(metrics)
    plot = accuracy_plot("training wall time (minutes, 2-core CPU)", "accuracy", (-10, -160))
    minutes = [r["elapsed_s"] / 60 for r in rows]
    for key, label, colour in CURVES:
        plot.plot(minutes, [r.get(key, 0.0) for r in rows], pen=pg.mkPen(colour, width=2.5),
                  name=label)
    save_png(plot, out)
    print(f"wrote {out} from {len(rows)} evaluations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
