"""Render the "think longer" plot: neural-only puzzle accuracy against solve steps, one curve per
puzzle set, from the JSON lines of `sudoku-jepa eval --json` (one row per file and step count).

Usage: python benchmarks/plot_steps.py assets/steps.jsonl assets/accuracy_by_steps.png
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg  # noqa: E402
from plot_curves import accuracy_plot, save_png  # noqa: E402 - the sibling script's helpers

COLOURS = ["#2e7d32", "#c62828", "#1565c0", "#6a1b9a", "#ef6c00", "#00838f"]


def main(argv: list[str]) -> int:
    source, out = Path(argv[0]), Path(argv[1])
    rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("chains", 1) == 1]
    plot = accuracy_plot("solve steps (log2)", "puzzle accuracy, neural only", (10, 10))
    for i, name in enumerate(dict.fromkeys(r["file"] for r in rows)):
        mine = sorted((r for r in rows if r["file"] == name), key=lambda r: r["steps"])
        plot.plot([math.log2(r["steps"]) for r in mine], [r["puzzle_acc"] for r in mine],
                  pen=pg.mkPen(COLOURS[i % len(COLOURS)], width=2.5), symbol="o",
                  symbolBrush=COLOURS[i % len(COLOURS)], name=f"{Path(name).stem} "
                  f"({mine[0]['puzzles']} puzzles)")
    save_png(plot, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
