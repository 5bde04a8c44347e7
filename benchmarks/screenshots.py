"""Grab the app's window to PNGs: the Solve tab before and after a solve, the Training tab on the
shipped run's metrics, and the window at its minimum size. For the README and for checking the
layout at other sizes and scales (run it with QT_SCALE_FACTOR=1.5 under a real X server).

Usage: xvfb-run -s "-screen 0 1600x1000x24" python benchmarks/screenshots.py OUT_DIR [WxH]
(QT_SCALE_FACTOR=1.5 for a high-DPI screen; SCREENSHOT_DARK=1 for a dark palette)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parent.parent


def _runs_folder() -> Path:
    """A runs folder holding the shipped model's run (config + metrics), marked finished."""
    runs = Path(tempfile.mkdtemp()) / "runs"
    run = runs / "cpu-recurrent"
    run.mkdir(parents=True)
    for name in ("config.json", "metrics.jsonl"):
        shutil.copy(ROOT / "assets" / "cpu-recurrent" / name, run / name)
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    best = {"val_puzzle_acc": 0.915, "val_cell_acc": 0.9728}
    (run / "state.json").write_text(json.dumps({
        "state": "finished", "step": last["step"], "total_steps": last["step"], "best": best,
        "started": "2026-12-06T13:50:22+00:00"}))
    return runs


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    for role, colour in (("Window", "#2b2d30"), ("WindowText", "#e8eaed"), ("Base", "#1e1f22"),
                         ("AlternateBase", "#2b2d30"), ("Text", "#e8eaed"),
                         ("Button", "#3a3c40"), ("ButtonText", "#e8eaed"),
                         ("Highlight", "#4a88e8"), ("HighlightedText", "#ffffff"),
                         ("ToolTipBase", "#2b2d30"), ("ToolTipText", "#e8eaed"),
                         ("PlaceholderText", "#9aa0a6")):
        palette.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    return palette


def _settle(app: QApplication, ms: int = 300) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "screenshots")
    width, height = (int(v) for v in (argv[2] if len(argv) > 2 else "1100x720").split("x"))
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(argv)
    if os.environ.get("SCREENSHOT_DARK"):  # stand-in for a system dark theme
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    os.chdir(_runs_folder().parent)  # the Training tab lists ./runs

    from app.main import MainWindow, warm_up_exact_search
    from app.settings import AppSettings

    warm_up_exact_search()
    settings = AppSettings(QSettings(str(out / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings=settings)
    window.resize(width, height)
    window.show()
    _settle(app, 800)
    window.grab().save(str(out / "solve_start.png"))
    finished = []
    window.solver.run_finished.connect(finished.append)
    window.panel.speed_slider.setValue(61)
    window.solver.solve()
    for _ in range(200):
        if finished:
            break
        _settle(app, 100)
    _settle(app, 500)
    window.grab().save(str(out / "solve_end.png"))
    if window.training_panel is not None:
        window.tabs.setCurrentWidget(window.training_panel)
        window.training_panel.refresh()
        window.training_panel.select_run(Path("runs/cpu-recurrent"))
        _settle(app, 1500)
        window.grab().save(str(out / "training.png"))
        window.tabs.setCurrentIndex(0)
    for tab in ("How it works", "About"):
        dialog = window.show_help(tab)
        _settle(app, 400)
        dialog.grab().save(str(out / f"help_{tab.split()[0].lower()}.png"))
        dialog.close()
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    window.resize(minimum)
    _settle(app, 800)
    window.grab().save(str(out / "minimum.png"))
    print(f"minimum size {window.width()}x{window.height()}; saved to {out}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
