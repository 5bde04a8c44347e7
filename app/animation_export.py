"""File > Export animation: the descent of one puzzle as an animated PNG of board + energy plot.

The run is computed again with the same settings and seed (`model.descend` repeats a run
exactly), drawn by an offscreen board and plot, and each kept step becomes a frame; long runs
keep at most `max_frames` steps, evenly spread, plus the end held for a moment.

    python -m app.animation_export OUT.png [--level hard|--puzzle 81CHARS] [--model M.onnx]
        [--steps N] [--width 900]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from app.apng import apng
from app.board_model import BoardState
from app.board_view import VIEW_PROBABILITIES, BoardView
from app.energy_plot import EnergyPlot

FRAME_MS = 120  # one kept step on screen
END_HOLD_MS = 2500  # the final grid stays this long before the loop restarts


def kept_steps(total: int, max_frames: int) -> list[int]:
    """Indices of the steps that become frames: all when few, else evenly spread, always the
    first and the last."""
    if total <= max_frames:
        return list(range(total))
    return sorted({int(round(i)) for i in np.linspace(0, total - 1, max_frames)})


def _png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.convertToFormat(QImage.Format.Format_RGB32).save(buffer, "PNG")
    return bytes(data.data())


class _Stage(QWidget):
    """Board beside plot, never on screen: what each frame shows."""

    def __init__(self, puzzle: np.ndarray, total_steps: int, width: int) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        self.state = BoardState()
        self.state.load(puzzle)
        self.board = BoardView(self.state)
        self.board.set_view_mode(VIEW_PROBABILITIES)
        self.board.set_check_solution(True)
        self.plot = EnergyPlot()
        self.plot.set_wrong_visible(self.state.solution() is not None)
        self.plot.reset(total_steps)
        layout = QHBoxLayout(self)
        layout.addWidget(self.board, 1)
        layout.addWidget(self.plot, 1)
        self.resize(width, int(width * 0.5))
        self.show()  # lays out the plot (offscreen)

    def frame(self) -> QImage:
        QApplication.processEvents()
        return self.grab().toImage()


def export_animation(model, puzzle: np.ndarray, settings, path: Path | str,
                     width: int = 900, max_frames: int = 120,
                     progress: Callable[[int, int], bool] | None = None) -> int:
    """Write the APNG of one descent to `path`; the number of frames. `progress(done, total)`
    returning False cancels (nothing is written)."""
    from app.solution_check import wrong_count

    steps = list(model.descend(puzzle, settings))
    keep = set(kept_steps(len(steps), max_frames))
    stage = _Stage(puzzle, max(1, len(steps) - 1), width)
    solution = stage.state.solution()
    frames: list[bytes] = []
    try:
        for index, step in enumerate(steps):
            stage.state.show_step(step.grid, step.probs, step.changed)
            stage.plot.add_step(step.step, step.energies, step.best_energy, step.violations,
                                redraw=False, wrong=wrong_count(step.grid, solution, puzzle))
            if index in keep:
                stage.plot.mark_step(step.step)
                stage.plot.redraw()
                frames.append(_png(stage.frame()))
            if progress is not None and not progress(index + 1, len(steps)):
                return 0
    finally:
        stage.close()
        stage.deleteLater()
    delays = [FRAME_MS] * len(frames)
    delays[-1] = END_HOLD_MS
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(apng(frames, delays))
    temporary.replace(target)  # a reader never sees half a file
    return len(frames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--level", default="hard", help="first library puzzle of this level")
    parser.add_argument("--puzzle", help="an 81-character puzzle instead")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=None, help="default: the model's")
    parser.add_argument("--width", type=int, default=900)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (keeps Qt alive)
    from dataclasses import replace

    from app import puzzle_library
    from assets import DEFAULT_MODEL
    from model.board import parse_grid
    from model.runtime import EnergyModel

    model = EnergyModel.load(args.model or DEFAULT_MODEL)
    if args.puzzle:
        puzzle = parse_grid(args.puzzle)
    else:
        puzzle = puzzle_library.puzzles_of(puzzle_library.load_library(), args.level)[0].puzzle
    settings = model.default_settings()
    if args.steps is not None:
        settings = replace(settings, steps=args.steps)
    count = export_animation(model, puzzle, settings, args.out, width=args.width)
    print(f"wrote {args.out}: {count} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
