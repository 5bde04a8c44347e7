"""The 9x9 board widget: draws the puzzle and the solver's view of it, and takes keyboard entry.

Everything is painted from `BoardState` at the widget's current size (fonts in pixels of the cell
size), so the board scales with the window and stays sharp at any display scaling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.board_model import SOURCE_SEARCH, BoardState

VIEW_PROBABILITIES = "probabilities"
VIEW_DIGITS = "digits"
CONFIDENT = 0.9  # top probability at which a cell shows one large digit instead of its heatmap

COLOR_BACKGROUND = QColor("#fbfaf6")
COLOR_GIVEN = QColor("#15171a")
COLOR_NEURAL = QColor("#1f5fbf")
COLOR_SEARCH = QColor("#c25400")
COLOR_HEAT = QColor(31, 95, 191)
COLOR_CONFLICT_FILL = QColor("#ffd3d0")
COLOR_CONFLICT_TEXT = QColor("#c0221b")
COLOR_SELECTED = QColor("#bcd6fb")
COLOR_SELECTED_DIM = QColor("#d3e3fb")
COLOR_HEAT_LABEL = QColor(40, 44, 52, 150)
COLOR_HEAT_LABEL_ON_DARK = QColor("#ffffff")
COLOR_PEER = QColor("#e9f0fa")
COLOR_CHANGED = QColor("#f08c00")
COLOR_WRONG = QColor("#7840a0")
COLOR_THIN_LINE = QColor("#a7a9ad")
COLOR_BOX_LINE = QColor("#25282c")

_DIGIT_KEYS = {getattr(Qt.Key, f"Key_{d}"): d for d in range(10)}
_CLEAR_KEYS = {Qt.Key.Key_Backspace, Qt.Key.Key_Delete, Qt.Key.Key_Space, Qt.Key.Key_Period}
_MOVES = {
    Qt.Key.Key_Left: (0, -1),
    Qt.Key.Key_Right: (0, 1),
    Qt.Key.Key_Up: (-1, 0),
    Qt.Key.Key_Down: (1, 0),
}


@dataclass(frozen=True)
class CellContent:
    """What one cell shows; the painter and the tests read the same decision."""

    kind: str  # "blank" | "given" | "heatmap" | "digit"
    digit: int = 0  # the digit drawn large (given, or the solver's top digit)
    confidence: float = 1.0  # top probability for solver cells
    source: str = "neural"  # "neural" | "search" for solver digits
    conflict: bool = False
    changed: bool = False
    wrong: bool = False  # differs from the solution (shown only with "check against solution")


# A paused run is still live (Continue / Step go on from it), so pausing does not unlock.
LOCKED_MESSAGE = "The puzzle is locked while a solve is running or paused: Reset (Esc) to edit."


class BoardView(QWidget):
    """Square Sudoku board. Emits `edited` after the user changes the puzzle."""

    edited = Signal()
    selection_changed = Signal(int)
    edit_refused = Signal(str)  # why a key press did not change the puzzle

    def __init__(self, state: BoardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._selected = 40
        self._locked = False
        self._check_solution = False
        self._view_mode = VIEW_PROBABILITIES
        self._label_cache: tuple[tuple[float, float], QPixmap] | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(288, 288)
        self.setToolTip(
            "Click or use the arrow keys to pick a cell; type 1-9, Backspace/Delete/0 clears.\n"
            "Bold digits are the puzzle; blue digits are the model's, orange ones the exact "
            "search's.\nEmpty cells show the model's 9 digit probabilities as a 3x3 heatmap."
        )

    # --- state ------------------------------------------------------------------------------
    @property
    def state(self) -> BoardState:
        return self._state

    @property
    def selected(self) -> int:
        return self._selected

    def select(self, cell: int) -> None:
        cell = int(np.clip(cell, 0, 80))
        if cell != self._selected:
            self._selected = cell
            self.selection_changed.emit(cell)
            self.update()

    @property
    def locked(self) -> bool:
        return self._locked

    def set_locked(self, locked: bool) -> None:
        """Lock the givens (while the solver runs)."""
        self._locked = locked
        self.update()

    @property
    def view_mode(self) -> str:
        return self._view_mode

    def set_view_mode(self, mode: str) -> None:
        if mode not in (VIEW_PROBABILITIES, VIEW_DIGITS):
            raise ValueError(f"unknown view mode {mode!r}")
        self._view_mode = mode
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(540, 540)

    # --- what each cell shows ---------------------------------------------------------------
    def cell_content(self, cell: int) -> CellContent:
        return self._content(cell, self._state.conflicts())

    @property
    def check_solution(self) -> bool:
        return self._check_solution

    def set_check_solution(self, on: bool) -> None:
        """Mark the solver's cells that differ from the puzzle's solution."""
        self._check_solution = bool(on)
        self.update()

    def cell_contents(self) -> list[CellContent]:
        """All 81 cells, computing the puzzle's conflicts (and wrong cells) once."""
        puzzle_conflicts = self._state.conflicts()
        contents = [self._content(cell, puzzle_conflicts) for cell in range(81)]
        if self._check_solution and self._state.overlay is not None:
            for cell in np.flatnonzero(self._state.wrong_cells()):
                contents[cell] = replace(contents[cell], wrong=True)
        return contents

    def _content(self, cell: int, puzzle_conflicts: np.ndarray) -> CellContent:
        state = self._state
        if state.is_given(cell):
            return CellContent(
                "given", state.digit(cell), conflict=bool(puzzle_conflicts[cell])
            )
        overlay = state.overlay
        if overlay is None or overlay.grid[cell] == 0 and (overlay.probs is None or overlay.final):
            return CellContent("blank")
        changed = bool(overlay.changed[cell])
        source = "neural"
        if overlay.source is not None and overlay.source[cell] == SOURCE_SEARCH:
            source = "search"
        conflict = bool(overlay.conflicts[cell])
        if overlay.probs is None or overlay.final:
            return CellContent("digit", int(overlay.grid[cell]), 1.0, source, conflict, changed)
        probs = overlay.probs[cell]
        confidence = float(probs.max())
        top = int(overlay.grid[cell]) or int(probs.argmax()) + 1
        if self._view_mode == VIEW_DIGITS or confidence >= CONFIDENT:
            return CellContent("digit", top, confidence, source, conflict, changed)
        return CellContent("heatmap", top, confidence, source, conflict, changed)

    # --- geometry ---------------------------------------------------------------------------
    def _board_rect(self) -> QRectF:
        margin = 6.0
        side = max(9.0, min(self.width(), self.height()) - 2 * margin)
        side = 9.0 * int(side / 9.0)  # whole-pixel cells keep lines crisp
        left = (self.width() - side) / 2.0
        top = (self.height() - side) / 2.0
        return QRectF(left, top, side, side)

    def cell_rect(self, cell: int) -> QRectF:
        board_rect = self._board_rect()
        size = board_rect.width() / 9.0
        row, col = divmod(cell, 9)
        return QRectF(board_rect.left() + col * size, board_rect.top() + row * size, size, size)

    def cell_at(self, point: QPointF) -> int | None:
        board_rect = self._board_rect()
        if not board_rect.contains(point):
            return None
        size = board_rect.width() / 9.0
        col = min(8, int((point.x() - board_rect.left()) / size))
        row = min(8, int((point.y() - board_rect.top()) / size))
        return row * 9 + col

    # --- input ------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        cell = self.cell_at(event.position())
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if cell is not None:
            self.select(cell)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in _MOVES and mods == Qt.KeyboardModifier.NoModifier:
            drow, dcol = _MOVES[key]
            row, col = divmod(self._selected, 9)
            self.select(((row + drow) % 9) * 9 + (col + dcol) % 9)
            event.accept()
            return
        digit = _DIGIT_KEYS.get(key)
        if digit is None and key in _CLEAR_KEYS:
            digit = 0
        if digit is None or mods not in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.ShiftModifier,
        ):
            super().keyPressEvent(event)
            return
        event.accept()
        self.enter_digit(digit)

    def enter_digit(self, digit: int) -> bool:
        """Write `digit` (0 clears) into the selected cell unless the board is locked."""
        if self._locked:
            self.edit_refused.emit(LOCKED_MESSAGE)
            return False
        if self._state.set_cell(self._selected, digit):
            self.edited.emit()
            self.update()
            return True
        return False

    # --- painting ---------------------------------------------------------------------------
    def _fonts(self, size: float) -> tuple[QFont, QFont]:
        given = QFont(self.font())
        given.setPixelSize(max(8, int(size * 0.62)))
        given.setBold(True)
        digit = QFont(self.font())
        digit.setPixelSize(max(8, int(size * 0.58)))
        return given, digit

    def _heat_labels(self, size: float) -> QPixmap:
        """The small digits 1-9 of a heatmap cell, drawn once per cell size (one blit per cell
        instead of nine text draws keeps a repaint cheap while the descent streams)."""
        ratio = self.devicePixelRatioF()
        key = (round(size, 2), ratio)
        if self._label_cache is not None and self._label_cache[0] == key:
            return self._label_cache[1]
        pixmap = QPixmap(max(1, int(size * ratio)), max(1, int(size * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        inner, sub = _heat_geometry(QRectF(0, 0, size, size))
        font = QFont(self.font())
        font.setPixelSize(max(6, int(sub * 0.72)))
        painter.setFont(font)
        painter.setPen(COLOR_HEAT_LABEL)
        if sub >= 7:
            for k in range(9):
                r, c = divmod(k, 3)
                sub_rect = QRectF(inner.left() + c * sub, inner.top() + r * sub, sub, sub)
                painter.drawText(sub_rect, Qt.AlignmentFlag.AlignCenter, str(k + 1))
        painter.end()
        self._label_cache = (key, pixmap)
        return pixmap

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        board_rect = self._board_rect()
        size = board_rect.width() / 9.0
        painter.fillRect(board_rect, COLOR_BACKGROUND)
        given_font, digit_font = self._fonts(size)
        labels = self._heat_labels(size)
        small_font = QFont(self.font())
        small_font.setPixelSize(max(6, int(_heat_geometry(QRectF(0, 0, size, size))[1] * 0.72)))
        probs = None if self._state.overlay is None else self._state.overlay.probs

        sel_row, sel_col = divmod(self._selected, 9)
        sel_box = (sel_row // 3, sel_col // 3)
        for cell, content in enumerate(self.cell_contents()):
            row, col = divmod(cell, 9)
            rect = self.cell_rect(cell)
            if content.conflict:
                painter.fillRect(rect, COLOR_CONFLICT_FILL)
            elif cell == self._selected:
                painter.fillRect(rect, COLOR_SELECTED if self.hasFocus() else COLOR_SELECTED_DIM)
            elif row == sel_row or col == sel_col or (row // 3, col // 3) == sel_box:
                painter.fillRect(rect, COLOR_PEER)
            if content.kind == "given":
                painter.setFont(given_font)
                painter.setPen(COLOR_CONFLICT_TEXT if content.conflict else COLOR_GIVEN)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(content.digit))
            elif content.kind == "digit":
                painter.setFont(digit_font)
                color = QColor(COLOR_SEARCH if content.source == "search" else COLOR_NEURAL)
                if content.conflict:
                    color = QColor(COLOR_CONFLICT_TEXT)
                color.setAlphaF(0.35 + 0.65 * min(1.0, max(0.0, content.confidence)))
                painter.setPen(color)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(content.digit))
            elif content.kind == "heatmap":
                self._paint_heatmap(painter, rect, probs[cell], labels, small_font)
            if content.wrong:  # a purple frame: wrong against the solution
                painter.setPen(QPen(COLOR_WRONG, max(2.0, size * 0.05)))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                inset = size * 0.08
                painter.drawRect(rect.adjusted(inset, inset, -inset, -inset))
            if content.changed:
                mark = size * 0.18
                corner = rect.topRight()
                triangle = QPolygonF([corner, QPointF(corner.x() - mark, corner.y()),
                                      QPointF(corner.x(), corner.y() + mark)])
                path = QPainterPath()
                path.addPolygon(triangle)
                painter.fillPath(path, COLOR_CHANGED)

        self._paint_grid_lines(painter, board_rect, size)
        painter.end()

    def _paint_heatmap(self, painter: QPainter, rect: QRectF, probs: np.ndarray,
                       labels: QPixmap, small_font: QFont) -> None:
        """The 9 digit probabilities as a 3x3 grid: digit d at row (d-1)//3, column (d-1)%3."""
        inner, sub = _heat_geometry(rect)
        for k in range(9):
            p = float(probs[k])
            if p < 0.01:
                continue
            r, c = divmod(k, 3)
            fill = QColor(COLOR_HEAT)
            fill.setAlphaF(min(1.0, p**0.75) * 0.85)
            painter.fillRect(
                QRectF(inner.left() + c * sub + 0.5, inner.top() + r * sub + 0.5, sub - 1, sub - 1),
                fill,
            )
        painter.drawPixmap(rect.topLeft(), labels)
        top = int(np.argmax(probs))
        if probs[top] > 0.5 and sub >= 7:  # a dark sub-cell: redraw its label in white
            r, c = divmod(top, 3)
            painter.setFont(small_font)
            painter.setPen(COLOR_HEAT_LABEL_ON_DARK)
            painter.drawText(QRectF(inner.left() + c * sub, inner.top() + r * sub, sub, sub),
                             Qt.AlignmentFlag.AlignCenter, str(top + 1))

    def _paint_grid_lines(self, painter: QPainter, board_rect: QRectF, size: float) -> None:
        thin = QPen(COLOR_THIN_LINE, 1.0)
        thick = QPen(COLOR_BOX_LINE, max(2.0, round(size * 0.06)))
        thick.setCapStyle(Qt.PenCapStyle.SquareCap)
        for pen, indices in ((thin, (1, 2, 4, 5, 7, 8)), (thick, (0, 3, 6, 9))):
            painter.setPen(pen)
            for i in indices:
                x = board_rect.left() + i * size
                y = board_rect.top() + i * size
                painter.drawLine(QPointF(x, board_rect.top()), QPointF(x, board_rect.bottom()))
                painter.drawLine(QPointF(board_rect.left(), y), QPointF(board_rect.right(), y))
        if self.hasFocus():
            painter.setPen(QPen(COLOR_NEURAL, 2.0))
            painter.drawRect(self.cell_rect(self._selected).adjusted(1.5, 1.5, -1.5, -1.5))


def _heat_geometry(rect: QRectF) -> tuple[QRectF, float]:
    """The heatmap's inner square in a cell and its sub-cell size."""
    pad = rect.width() * 0.07
    inner = rect.adjusted(pad, pad, -pad, -pad)
    return inner, inner.width() / 3.0
