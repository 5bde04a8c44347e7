"""Help > How it works, Keyboard and mouse, About: one dialog with three tabs.

The pages take their colours from the application palette (text, muted text, links, the
diagram), so a system dark theme gets light text on dark, never dark grey on dark.
"""

from __future__ import annotations

import html
import platform
from importlib import metadata

from PySide6.QtCore import QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPen, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

DIAGRAM_URL = QUrl("diagram://how-it-works")

# (distribution names to try, what it is, licence): what the app runs on.
COMPONENTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("sudoku-jepa",), "this app, the model and the trainer", "MIT"),
    (("PySide6-Essentials", "PySide6"), "Qt for Python (the window)", "LGPL-3.0"),
    (("pyqtgraph",), "the plots", "MIT"),
    (("onnxruntime-gpu", "onnxruntime"), "runs the model", "MIT"),
    (("onnx",), "reads the model file", "Apache-2.0"),
    (("numpy",), "arrays", "BSD-3-Clause"),
    (("numba",), "the compiled exact search", "BSD-2-Clause"),
)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def muted_colour(palette: QPalette) -> str:
    """A secondary-text colour that reads on this palette's background (hints, notes)."""
    text = palette.color(QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorRole.Window)
    mixed = QColor((2 * text.red() + window.red()) // 3, (2 * text.green() + window.green()) // 3,
                   (2 * text.blue() + window.blue()) // 3)
    return mixed.name()


def installed_version(names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def about_html(model, palette: QPalette) -> str:
    """Version, the loaded model (run, file, when and from which commit), the licences."""
    muted = muted_colour(palette)
    version = installed_version(("sudoku-jepa",))
    rows = []
    if model is None:
        rows.append("<tr><td><b>model</b></td><td>none loaded</td></tr>")
    else:
        meta = dict(getattr(model, "metadata", {}) or {})
        for label, value in (
            ("model run", meta.get("run_name")), ("file", str(model.path)),
            ("exported", meta.get("created")), ("from commit", meta.get("git_commit")),
            ("runs on", str(getattr(model, "provider", "?")).upper()),
        ):
            if value:
                rows.append(f"<tr><td><b>{label}</b></td><td>{html.escape(str(value))}</td></tr>")
    components = "".join(
        f"<tr><td>{html.escape(names[0])}</td><td>{html.escape(installed_version(names))}</td>"
        f"<td>{html.escape(licence)}</td><td style='color:{muted}'>{html.escape(what)}</td></tr>"
        for names, what, licence in COMPONENTS
    )
    return (
        f"<h2>Sudoku JEPA {html.escape(version)}</h2>"
        "<p>An energy-based Sudoku solver you can watch think, trained JEPA-style.</p>"
        f"<table cellpadding='2'>{''.join(rows)}"
        f"<tr><td><b>Python</b></td><td>{platform.python_version()}</td></tr></table>"
        "<h3>Licences</h3>"
        "<table cellpadding='2'><tr><th align='left'>component</th><th align='left'>version</th>"
        f"<th align='left'>licence</th><th></th></tr>{components}</table>"
        f"<p style='color:{muted}'>Qt is used under the LGPL-3.0 through PySide6; its source is at "
        "https://code.qt.io. The app itself is MIT licensed (pyproject.toml).</p>"
    )


def how_it_works_html(palette: QPalette) -> str:
    muted = muted_colour(palette)
    return (
        "<h2>How it works</h2>"
        f"<p><img src='{DIAGRAM_URL.toString()}'></p>"
        "<p><b>The energy.</b> The model scores a puzzle and a candidate answer with one number, "
        "the <i>energy</i>: low when the answer fits the puzzle and the rules. Solving is "
        "walking downhill on it.</p>"
        "<p><b>The descent.</b> The answer is held as a vector <i>z</i> the model can decode into "
        "digit probabilities. Each step moves <i>z</i> a little against the energy's gradient, "
        "plus some noise (Langevin dynamics). The plot shows the energy of every step: it should "
        "fall, and the conflicts below it should go to zero.</p>"
        "<p><b>The heatmaps.</b> An empty cell shows its nine digit probabilities as a 3x3 grid "
        "(digit 1 top left, 9 bottom right); the darker a square, the more likely that digit. A "
        "cell the model is sure of shows its digit; an orange corner means its top digit changed "
        "in the last step.</p>"
        "<p><b>The chains.</b> Several descents run side by side from different noise (faint "
        "lines); the lowest-energy one (bold) is shown on the board.</p>"
        "<p><b>The exact finish.</b> If the network's grid still breaks a rule, an exact search, "
        "guided by the model's probabilities, completes it; its digits are drawn in orange. "
        f"<span style='color:{muted}'>Turn it off to see what the network does alone.</span></p>"
    )


def keys_html() -> str:
    return (
        "<h2>Keyboard and mouse</h2>"
        "<p><b>Entering a puzzle</b>: click a cell or move with the arrow keys; type 1-9; "
        "Backspace, Delete or 0 clears. Ctrl+Z / Ctrl+Shift+Z undo and redo.</p>"
        "<p><b>Puzzles</b>: Ctrl+N new, Ctrl+V paste (81 characters or 9 lines), Ctrl+O open, "
        "Ctrl+S save, Ctrl+C copy.</p>"
        "<p><b>Solver</b>: F5 solve/continue, F6 step, F7 pause, Esc reset; P / D switch between "
        "probabilities and digits.</p>"
        "<p><b>Colours</b>: bold = puzzle, blue = model, orange = exact search, red = conflict, "
        "orange corner = the top digit changed in the last step.</p>"
    )


def diagram(palette: QPalette, scale: float = 1.0) -> QImage:
    """puzzle -> encode -> z -> descend (energy falls) -> decode -> heatmaps -> exact finish."""
    boxes = ("puzzle", "encode\nto z", "descend z\n(energy falls)", "decode to\nprobabilities",
             "exact finish\nif a rule breaks")
    width, height, box_w, box_h, gap = 630, 90, 100, 54, 30
    image = QImage(int(width * scale), int(height * scale), QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    text = palette.color(QPalette.ColorRole.Text)
    accent = palette.color(QPalette.ColorRole.Highlight)
    font = QFont(QApplication.font())
    font.setPointSizeF(8.5)
    painter.setFont(font)
    for index, label in enumerate(boxes):
        x = index * (box_w + gap) + 2
        rect = QRectF(x, 18, box_w, box_h)
        fill = QColor(accent)
        fill.setAlpha(60 if index == 2 else 25)
        painter.setPen(QPen(accent if index == 2 else text, 1.5))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(text)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        if index < len(boxes) - 1:
            y = rect.center().y()
            start, end = QPointF(x + box_w + 3, y), QPointF(x + box_w + gap - 3, y)
            painter.drawLine(start, end)
            painter.drawLine(end, end + QPointF(-6, -4))
            painter.drawLine(end, end + QPointF(-6, 4))
    # The loop back: a descent takes many small steps.
    loop_x = 2 * (box_w + gap) + 2 + box_w / 2
    painter.setPen(QPen(accent, 1.5))
    painter.drawArc(QRectF(loop_x - 18, 2, 36, 24), 0, 180 * 16)
    painter.setPen(text)
    painter.drawText(QRectF(loop_x + 20, 0, 120, 16), Qt.AlignmentFlag.AlignLeft,
                     "repeat each step")
    painter.end()
    return image


class HelpDialog(QDialog):
    """Tabs: How it works (with the diagram), Keyboard and mouse, About."""

    TABS = ("How it works", "Keyboard and mouse", "About")

    def __init__(self, model=None, parent: QWidget | None = None, tab: str = TABS[0]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sudoku JEPA help")
        self.resize(680, 560)
        palette = self.palette()
        self.tabs = QTabWidget()
        self.pages: dict[str, QTextBrowser] = {}
        scale = self.devicePixelRatioF()
        for title, page in zip(self.TABS, (how_it_works_html(palette), keys_html(),
                                           about_html(model, palette)), strict=True):
            browser = QTextBrowser()
            browser.setOpenExternalLinks(True)
            browser.document().addResource(QTextDocument.ResourceType.ImageResource,
                                           DIAGRAM_URL, diagram(palette, scale))
            browser.setHtml(page)
            self.pages[title] = browser
            self.tabs.addTab(browser, title)
        self.tabs.setCurrentIndex(self.TABS.index(tab) if tab in self.TABS else 0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)

