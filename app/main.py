"""`sudoku-jepa-gui`: the main window that puts the board, the solver and the plot together.

The window owns the BoardState, the loaded EnergyModel and at most one background job (a
descent, a generator call or a model-free exact search). Jobs report by signals tagged with a run
id, so anything a reset has made stale is ignored.
"""

from __future__ import annotations

import signal
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import puzzle_library
from app.board_model import BoardState
from app.board_view import LOCKED_MESSAGE, VIEW_DIGITS, VIEW_PROBABILITIES, BoardView
from app.energy_plot import EnergyPlot
from app.help_pages import HelpDialog, muted_colour
from app.model_dialog import ModelInfoDialog
from app.quit_waiter import QuitWaiter
from app.settings import AppSettings
from app.solve_controller import NO_MODEL, SolveController
from app.solver_panel import SolverPanel
from app.status_bar import ElidingStatusBar
from app.workers import CallWorker, WorkerThread, verified_available
from assets import DEFAULT_MODEL
from model import board
from model.runtime import EnergyModel, ModelError

_USE_DEFAULT = object()


class MainWindow(QMainWindow):
    """The app. `model_path=None` starts without a model; `dialogs=False` turns message boxes
    into status-bar messages (tests, monkey runs); `example=True` opens on a library puzzle so
    Solve works in the first seconds."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        model_path=_USE_DEFAULT,
        dialogs: bool = True,
        example: bool = True,
    ) -> None:
        super().__init__()
        # Workers run Python between onnxruntime calls; a short GIL switch interval keeps the GUI
        # thread from waiting up to the default 5 ms each time it wants the interpreter back.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        self.settings = settings if settings is not None else AppSettings()
        self.dialogs = dialogs
        self.model: EnergyModel | None = None
        self.last_problem = ""  # the latest message shown to the user about bad input
        self._gen_job: WorkerThread | None = None  # generating a new puzzle
        self._gen_id = 0
        self._quit_waiter: QuitWaiter | None = None  # waiting for trainers before closing
        self.setWindowTitle("Sudoku JEPA")
        self.setAcceptDrops(True)

        self.state = BoardState()
        self.board = BoardView(self.state)
        self.panel = SolverPanel()
        self.plot = EnergyPlot()
        self.verdict = QLabel(" ")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict.setWordWrap(True)
        font = self.verdict.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.verdict.setFont(font)
        # A fixed room for three lines, so a longer verdict never shrinks the board (a jump).
        self.verdict.setFixedHeight(3 * self.verdict.fontMetrics().lineSpacing() + 6)
        self.solver = SolveController(self.state, self.board, self.plot, self.panel)
        self.setStatusBar(ElidingStatusBar())
        self.model_label = QLabel(NO_MODEL)
        self.statusBar().addPermanentWidget(self.model_label)
        self._build_layout()
        self._build_actions()
        self._connect()
        self._restore_settings()
        self._load_initial_model(model_path)
        if example:
            self._load_example()
        self._show_hint()
        self._refresh()
        if self.settings.problems:  # junk in the settings file: say so, defaults were used
            self.statusBar().showMessage("Settings: " + "; ".join(self.settings.problems), 20000)

    # --- construction -----------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(8, 8, 8, 8)
        left_layout.addWidget(self.board, 1)
        left_layout.addWidget(self.verdict)

        puzzle_row = QHBoxLayout()
        self.level_combo = QComboBox()
        for level in puzzle_library.LEVELS:
            self.level_combo.addItem(level.name.capitalize(), level.name)
            self.level_combo.setItemData(
                self.level_combo.count() - 1, level.description, Qt.ItemDataRole.ToolTipRole
            )
        self.level_combo.setCurrentIndex(1)
        self.level_combo.setToolTip("Difficulty of a new generated puzzle")
        self.new_button = QPushButton("New puzzle")
        self.new_button.setToolTip("Generate a fresh puzzle with a unique solution (Ctrl+N)")
        puzzle_row.addWidget(QLabel("Puzzle"))
        puzzle_row.addWidget(self.level_combo, 1)
        puzzle_row.addWidget(self.new_button)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 8, 8, 8)
        right_layout.addLayout(puzzle_row)
        # Controls above, plot below, the user moves the line between them; both shrink (the
        # controls scroll), so a small or high-DPI screen still shows every button.
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(self.panel)
        self.right_splitter.addWidget(self.plot)
        self.right_splitter.setStretchFactor(1, 1)
        self.right_splitter.setChildrenCollapsible(False)
        # Shared in proportion to what the controls want and what the plot needs to be read;
        # on a short screen the controls scroll before the plot is squashed.
        self.right_splitter.setSizes([390, 250])
        right_layout.addWidget(self.right_splitter, 1)
        self.plot.setMinimumHeight(140)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.tabs = QTabWidget()
        self.tabs.addTab(splitter, "Solve")
        self.training_panel = self._make_training_panel()
        if self.training_panel is not None:
            self.tabs.addTab(self.training_panel, "Training")
        self.setCentralWidget(self.tabs)
        self.resize(1100, 720)

    def _make_training_panel(self) -> QWidget | None:
        """The Training tab, when that panel is installed; the solver works without it."""
        try:
            from app.training_panel import TrainingPanel
        except ImportError:
            return None
        try:
            panel = TrainingPanel()
        except Exception as exc:  # a broken panel must not take the solver down
            print(f"Training tab unavailable: {exc}", file=sys.stderr)
            return None
        if hasattr(panel, "use_model_requested"):
            panel.use_model_requested.connect(self._use_trained_model)
        return panel

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())  # drop `checked`
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&Puzzle")
        new_menu = file_menu.addMenu("&New puzzle")
        for level in puzzle_library.LEVELS:
            self._action(new_menu, level.name.capitalize(),
                         lambda n=level.name: self.new_puzzle(n), tip=level.description)
        self._action(file_menu, "New puzzle (current difficulty)", self._new_from_combo,
                     QKeySequence.StandardKey.New)
        library_menu = file_menu.addMenu("Example &library")
        self._fill_library_menu(library_menu)
        file_menu.addSeparator()
        self._action(file_menu, "&Open puzzle file...", self.open_puzzle_dialog,
                     QKeySequence.StandardKey.Open, "Open a puzzle file (lines, grids, .sdk, CSV)")
        self._action(file_menu, "&Save puzzle as...", self.save_puzzle_dialog,
                     QKeySequence.StandardKey.Save, "Save the puzzle as an 81-character line")
        self.export_action = self._action(
            file_menu, "&Export animation...", self.export_animation_dialog,
            tip="Write the descent of this puzzle (same settings and seed) as an animated PNG")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action(edit_menu, "&Undo", self.undo,
                                        QKeySequence.StandardKey.Undo)
        self.redo_action = self._action(edit_menu, "&Redo", self.redo,
                                        [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit_menu.addSeparator()
        self._action(edit_menu, "&Copy puzzle", self.copy_puzzle, QKeySequence.StandardKey.Copy,
                     "Copy the puzzle as an 81-character string")
        self._action(edit_menu, "Copy solver &grid", self.copy_solver_grid,
                     QKeySequence("Ctrl+Shift+C"), "Copy the solver's grid as a string")
        self._action(edit_menu, "&Paste puzzle", self.paste_puzzle,
                     QKeySequence.StandardKey.Paste, "Paste an 81-character string or 9-line grid")
        self._action(edit_menu, "C&lear board", self.clear_puzzle, QKeySequence("Ctrl+Backspace"))

        solve_menu = bar.addMenu("&Solver")
        self._action(solve_menu, "&Solve / Continue", self.solver.solve, QKeySequence("F5"))
        self._action(solve_menu, "S&tep", self.solver.step, QKeySequence("F6"))
        self._action(solve_menu, "&Pause", self.solver.pause, QKeySequence("F7"))
        self._action(solve_menu, "&Reset", self._reset, QKeySequence("Esc"))

        view_menu = bar.addMenu("&View")
        group = QActionGroup(self)
        self.view_actions = {}
        for mode, key in ((VIEW_PROBABILITIES, "P"), (VIEW_DIGITS, "D")):
            action = self._action(view_menu, f"Show {mode}", lambda m=mode:
                                  self.set_view_mode(m), QKeySequence(key))
            action.setCheckable(True)
            group.addAction(action)
            self.view_actions[mode] = action

        model_menu = bar.addMenu("&Model")
        self._action(model_menu, "&Open model...", self.open_model_dialog, QKeySequence("Ctrl+M"),
                     "Load another exported ONNX model")
        self.info_action = self._action(model_menu, "Model &info", self.show_model_info,
                                        QKeySequence("Ctrl+I"))
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&How it works", lambda: self.show_help(HelpDialog.TABS[0]),
                     QKeySequence("Shift+F1"))
        self._action(help_menu, "&Keyboard and mouse", lambda: self.show_help(HelpDialog.TABS[1]),
                     QKeySequence("F1"))
        self._action(help_menu, "&About", lambda: self.show_help(HelpDialog.TABS[2]))

    def _fill_library_menu(self, menu) -> None:
        try:
            puzzles = puzzle_library.load_library()
        except board.PuzzleError as exc:
            menu.addAction(f"library unreadable: {exc}").setEnabled(False)
            return
        for level in puzzle_library.LEVELS:
            sub = menu.addMenu(level.name.capitalize())
            for item in puzzle_library.puzzles_of(puzzles, level.name):
                self._action(sub, item.title, lambda i=item: self.load_library_puzzle(i))

    def _load_example(self) -> None:
        try:
            first = puzzle_library.load_library()[0]
        except (board.PuzzleError, IndexError, OSError):
            return
        self.state.load(first.puzzle)
        index = self.level_combo.findData(first.level)
        if index >= 0:
            self.level_combo.setCurrentIndex(index)

    def _show_hint(self) -> None:
        """What to do next, in the verdict line, while there is no verdict."""
        if self.state.is_empty():
            hint = "Type a puzzle (click a cell, 1-9), paste one (Ctrl+V) or press New puzzle"
        else:
            hint = "Press Solve (F5) to watch the energy descent, or Step (F6) one step at a time"
        if self.model is None:
            hint = (NO_MODEL.capitalize() + " (Model > Open model). Solve uses exact search alone."
                    + ("<br>" + hint if self.state.is_empty() else ""))
        self.verdict.setText(f"<span style='color:{muted_colour(self.palette())}'>{hint}</span>")

    def _connect(self) -> None:
        self.board.edited.connect(self._on_edited)
        self.board.edit_refused.connect(lambda why: self.statusBar().showMessage(why, 4000))
        self.solver.verdict_changed.connect(self.verdict.setText)
        self.solver.status.connect(self.statusBar().showMessage)
        self.solver.problem.connect(lambda title, text: self.report_problem(title, text,
                                                                            quiet=True))
        self.solver.busy_changed.connect(self._refresh)
        self.panel.reset_requested.connect(self._show_hint)
        self.panel.view_mode_changed.connect(self.set_view_mode)
        self.panel.check_solution_changed.connect(self.set_check_solution)
        self.panel.defaults_requested.connect(self._apply_model_defaults)
        self.new_button.clicked.connect(self._new_from_combo)

    # --- settings ---------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.panel.speed_slider.setValue(self.settings.speed() or 61)
        mode = self.settings.view_mode((VIEW_PROBABILITIES, VIEW_DIGITS), VIEW_PROBABILITIES)
        self.set_view_mode(mode)
        self.panel.exact_finish.setChecked(self.settings.exact_finish())
        self.panel.exact_finish.setEnabled(verified_available())
        saved = self.settings.solver_settings()
        if saved is not None:
            self.panel.set_values(saved)

    def save_settings(self) -> str | None:
        self.settings.set_geometry(QByteArray(self.saveGeometry()))
        self.settings.set_solver_settings(self.panel.values())
        self.settings.set_speed(self.panel.speed_slider.value())
        self.settings.set_view_mode(self.board.view_mode)
        self.settings.set_exact_finish(self.panel.exact_finish.isChecked())
        if self.model is not None:
            self.settings.set_last_model(self.model.path)
        return self.settings.save()

    # --- models -----------------------------------------------------------------------------
    def _load_initial_model(self, model_path) -> None:
        if model_path is _USE_DEFAULT:
            last = self.settings.last_model()
            candidates = [p for p in (last, DEFAULT_MODEL) if p is not None]
            for path in candidates:
                if Path(path).is_file() and self.load_model(path, quiet=True,
                                                            keep_settings=True):
                    return
            self.statusBar().showMessage(NO_MODEL.capitalize(), 10000)
        elif model_path is not None:
            self.load_model(model_path, quiet=True, keep_settings=True)

    def load_model(self, path, quiet: bool = False, keep_settings: bool = False) -> bool:
        """Load an ONNX model; on failure the old model stays and the runtime's message shows."""
        try:
            model = EnergyModel.load(path)
        except ModelError as exc:  # str() names the path and the reason
            self.report_problem("Could not load the model", str(exc), quiet=quiet)
            return False
        except Exception as exc:  # anything the runtime did not foresee: still never a crash
            self.report_problem("Could not load the model",
                                f"{path}: {type(exc).__name__}: {exc}", quiet=quiet)
            return False
        self.solver.reset()
        self.model = model
        self.solver.model = model
        if not keep_settings or self.settings.solver_settings() is None:
            self._apply_model_defaults()
        name = model_name(model)
        self.model_label.setText(f"model: {name} ({model.provider.upper()})")
        self.model_label.setToolTip(f"{model.path}\n{getattr(model, 'provider_reason', '')}")
        self.setWindowTitle(f"Sudoku JEPA - {name}")
        self.settings.set_last_model(model.path)
        self.statusBar().showMessage(
            f"Loaded model {name} from {model.path} on {model.provider.upper()}", 6000)
        if self.state.overlay is None:
            self._show_hint()
        self._refresh()
        return True

    def _apply_model_defaults(self) -> None:
        if self.model is None:
            return
        self.panel.set_values(asdict(self.model.default_settings()))

    def _use_trained_model(self, path: str) -> None:
        if self.load_model(path):
            self.tabs.setCurrentIndex(0)

    def model_directory(self) -> str:
        """Where Open model starts: beside the loaded model, else the last folder used."""
        if self.model is not None and Path(self.model.path).parent.is_dir():
            return str(Path(self.model.path).resolve().parent)
        return self.settings.last_directory()

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open ONNX model", self.model_directory(), "ONNX models (*.onnx);;All (*)"
        )
        if path:
            self.settings.set_last_directory(Path(path).parent)
            self.load_model(path)

    def show_model_info(self) -> None:
        if self.model is None:
            self.report_problem("Model info", NO_MODEL.capitalize() + ".")
            return
        dialog = ModelInfoDialog(self.model, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # --- messages ---------------------------------------------------------------------------
    def report_problem(self, title: str, text: str, quiet: bool = False) -> None:
        """Tell the user what went wrong and where; never raises."""
        self.last_problem = text
        self.statusBar().showMessage(f"{title}: {text}", 15000)
        if self.dialogs and not quiet:
            box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    def show_help(self, tab: str = "Keyboard and mouse") -> HelpDialog:
        """The help dialog (How it works, Keyboard and mouse, About) on the given tab."""
        dialog = HelpDialog(self.model, self, tab)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # --- puzzle in and out ------------------------------------------------------------------
    def _editable(self) -> bool:
        if self.solver.is_descending():
            self.statusBar().showMessage(LOCKED_MESSAGE, 4000)
            return False
        return True

    def load_library_puzzle(self, item: puzzle_library.LibraryPuzzle) -> bool:
        """Load an example; the Puzzle box then names its level (not the one it said before)."""
        if not self.load_puzzle(item.puzzle, f"library: {item.title}"):
            return False
        index = self.level_combo.findData(item.level)
        if index >= 0:
            self.level_combo.setCurrentIndex(index)
        return True

    def load_puzzle(self, puzzle: np.ndarray, origin: str) -> bool:
        if not self._editable():
            return False
        try:
            self.state.load(puzzle)
        except board.PuzzleError as exc:
            self.report_problem("Bad puzzle", f"{origin}: {exc}")
            return False
        self._after_puzzle_change(f"Loaded {origin}")
        return True

    def paste_puzzle(self, text: str | None = None) -> bool:
        """Paste from `text` or the clipboard; a malformed one leaves the board as it was."""
        if text is None:
            text = QGuiApplication.clipboard().text()
        if not self._editable():
            return False
        if not text.strip():
            self.report_problem("Paste", "the clipboard holds no text")
            return False
        try:
            self.state.load_text(text)
        except board.PuzzleError as exc:
            self.report_problem("Paste", f"not a puzzle: {exc}")
            return False
        self._after_puzzle_change("Pasted a puzzle")
        return True

    def copy_puzzle(self) -> None:
        QGuiApplication.clipboard().setText(self.state.text())
        self.statusBar().showMessage("Copied the puzzle as an 81-character string", 3000)

    def copy_solver_grid(self) -> None:
        QGuiApplication.clipboard().setText(self.state.solution_text())
        self.statusBar().showMessage("Copied the solver's grid as an 81-character string", 3000)

    def clear_puzzle(self) -> None:
        if self._editable():
            self.state.clear()
            self._after_puzzle_change("Cleared the board")

    def undo(self) -> None:
        if self._editable() and self.state.undo():
            self._after_puzzle_change("Undo")

    def redo(self) -> None:
        if self._editable() and self.state.redo():
            self._after_puzzle_change("Redo")

    def open_puzzle_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open puzzle file", self.settings.last_directory(),
            "Puzzles (*.txt *.sdk *.csv *.ss);;All files (*)",
        )
        if path:
            self.settings.set_last_directory(Path(path).parent)
            self.open_puzzle_file(path)

    def open_puzzle_file(self, path, index: int | None = None) -> bool:
        """Load a puzzle from a file; with several, ask which (or take `index`)."""
        if not self._editable():
            return False
        try:
            grids, errors = puzzle_library.read_puzzle_file(Path(path))
        except board.PuzzleError as exc:
            self.report_problem("Open puzzle file", str(exc))
            return False
        if index is None and len(grids) > 1:
            items = [f"#{i + 1}  {board.format_grid(g)}" for i, g in enumerate(grids[:5000])]
            choice, ok = QInputDialog.getItem(
                self, "Pick a puzzle", f"{Path(path).name} holds {len(grids)} puzzles:", items,
                0, False,
            )
            if not ok:
                return False
            index = items.index(choice)
        index = 0 if index is None else index
        if not 0 <= index < len(grids):
            self.report_problem("Open puzzle file", f"{path}: no puzzle #{index + 1}")
            return False
        loaded = self.load_puzzle(grids[index], f"{Path(path).name} #{index + 1}")
        if loaded and errors:
            self.statusBar().showMessage(
                f"Loaded #{index + 1}; skipped {len(errors)} bad record(s), first: {errors[0]}",
                10000,
            )
        return loaded

    def save_puzzle_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save puzzle", str(Path(self.settings.last_directory()) / "puzzle.txt"),
            "Puzzles (*.txt);;All files (*)",
        )
        if path:
            self.settings.set_last_directory(Path(path).parent)
            self.save_puzzle_file(path)

    def export_animation_dialog(self) -> None:
        if self.model is None:
            self.report_problem("Export animation", NO_MODEL.capitalize() + ".")
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export animation", str(Path(self.settings.last_directory()) / "descent.png"),
            "Animated PNG (*.png *.apng)")
        if path:
            self.settings.set_last_directory(Path(path).parent)
            self.export_animation(path)

    def export_animation(self, path) -> bool:
        """Run the descent again (same settings, same seed) offscreen and write it as an APNG
        of board + plot; a progress dialog can cancel it."""
        from PySide6.QtWidgets import QProgressDialog

        from app.animation_export import export_animation

        if self.model is None or self.state.is_empty():
            self.report_problem("Export animation", "load a model and a puzzle first")
            return False
        dialog = QProgressDialog("Drawing the frames…", "Cancel", 0, 100, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)

        def progress(done: int, total: int) -> bool:
            dialog.setMaximum(total)
            dialog.setValue(done)
            return not dialog.wasCanceled()

        try:
            frames = export_animation(self.model, self.state.puzzle,
                                      self.solver.descent_settings(), path, progress=progress)
        except Exception as exc:  # a failed export is a message, never a crash
            self.report_problem("Export animation", f"{path}: {type(exc).__name__}: {exc}")
            return False
        finally:
            dialog.reset()
            dialog.deleteLater()
        if frames:
            self.statusBar().showMessage(f"Wrote {frames} frames to {path}", 8000)
        return bool(frames)

    def save_puzzle_file(self, path) -> bool:
        try:
            Path(path).write_text(self.state.text() + "\n", encoding="utf-8")
        except OSError as exc:
            self.report_problem("Save puzzle", f"{path}: {exc.strerror or exc}")
            return False
        self.statusBar().showMessage(f"Saved the puzzle to {path}", 5000)
        return True

    def _new_from_combo(self) -> None:
        self.new_puzzle(self.level_combo.currentData())

    def new_puzzle(self, level: str) -> None:
        """Generate off the GUI thread (hard puzzles can take a moment)."""
        if not self._editable() or self._gen_job is not None:
            return
        self.statusBar().showMessage(f"Generating a {level} puzzle...")
        self._gen_id += 1
        worker = CallWorker(lambda: puzzle_library.generate(level), self._gen_id)
        worker.returned.connect(self._on_generated)
        worker.errored.connect(self._on_generate_failed)
        worker.finished.connect(self._on_generate_finished)
        self._gen_job = WorkerThread(worker)
        self._gen_job.start()
        self._refresh()

    def _reset(self) -> None:
        self.solver.reset()
        self._show_hint()

    def _on_edited(self) -> None:
        self._after_puzzle_change(None)

    def _after_puzzle_change(self, message: str | None) -> None:
        if self.solver.is_busy():  # a model-free search of the old puzzle: its answer is moot
            self.solver.stop()
        self.plot.reset()
        self._show_hint()
        if message:
            self.statusBar().showMessage(message, 4000)
        clashes = board.conflict_pairs(self.state.puzzle)
        if clashes:
            a, b = clashes[0]
            self.statusBar().showMessage(
                f"Clashing givens (highlighted): {board.cell_name(a)} and {board.cell_name(b)} "
                f"both hold {self.state.digit(a)}", 8000,
            )
        self._refresh()

    def _on_generated(self, run_id: int, puzzle) -> None:
        if run_id != self._gen_id:
            return
        self.load_puzzle(puzzle, f"a new {self.level_combo.currentText().lower()} puzzle")

    def _on_generate_failed(self, run_id: int, message: str) -> None:
        if run_id == self._gen_id:
            self.report_problem("New puzzle", message)

    def _on_generate_finished(self, run_id: int) -> None:
        job, self._gen_job = self._gen_job, None
        if job is not None:
            job.thread.wait(5000)
        self._refresh()

    def is_busy(self) -> bool:
        return self.solver.is_busy() or self._gen_job is not None

    # --- state shown ------------------------------------------------------------------------
    def set_view_mode(self, mode: str) -> None:
        self.board.set_view_mode(mode)
        if self.panel.view_mode() != mode:
            self.panel.set_view_mode(mode)
        if mode in getattr(self, "view_actions", {}):
            self.view_actions[mode].setChecked(True)

    def set_check_solution(self, on: bool) -> None:
        """Mark wrong cells on the board and plot their count per step."""
        self.board.set_check_solution(on)
        self.plot.set_wrong_visible(on)
        if self.panel.check_solution.isChecked() != on:
            self.panel.check_solution.setChecked(on)

    def _refresh(self) -> None:
        locked = self.solver.is_descending()
        self.panel.set_state(self.solver.panel_state(),
                             can_solve=self.model is not None or verified_available())
        self.board.set_locked(locked)
        self.undo_action.setEnabled(self.state.can_undo() and not locked)
        self.redo_action.setEnabled(self.state.can_redo() and not locked)
        self.info_action.setEnabled(self.model is not None)
        self.export_action.setEnabled(self.model is not None and not self.is_busy())
        self.new_button.setEnabled(not locked and self._gen_job is None)
        if self.model is None:
            self.model_label.setText(NO_MODEL)
        self.board.update()

    # --- drag and drop: a puzzle file, a model file or puzzle text ---------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        if event.mimeData().hasUrls() or event.mimeData().hasText():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        data = event.mimeData()
        paths = [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]
        if paths:
            path = paths[0]
            if path.suffix.lower() == ".onnx":
                self.load_model(path)
            else:
                self.open_puzzle_file(path)
        elif data.hasText():
            self.paste_puzzle(data.text())
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        """Stop the workers cleanly and save settings before the window goes. Trainers started
        here get a graceful stop (checkpoint, export), which can take seconds: the window says
        what it waits for and closes itself when they are done, instead of freezing."""
        if self._quit_waiter is None and self.training_panel is not None and hasattr(
                self.training_panel, "launcher") and self.training_panel.launcher.running_runs():
            self._quit_waiter = QuitWaiter(self.training_panel.launcher, self,
                                           show_dialog=self.dialogs)
            self._quit_waiter.done.connect(self.close)
            self.statusBar().showMessage(self._quit_waiter.text)
            self._quit_waiter.start()
            event.ignore()
            return
        if self._quit_waiter is not None and not self._quit_waiter.is_done():
            event.ignore()  # a second Quit while waiting: the dialog offers "Quit now"
            return
        self.solver.stop()
        if self._gen_job is not None:
            self._gen_job.shutdown()
            self._gen_job = None
        problem = self.save_settings()
        if problem:
            print(problem, file=sys.stderr)
        if self.training_panel is not None and hasattr(self.training_panel, "shutdown"):
            self.training_panel.shutdown()
        super().closeEvent(event)


def model_name(model) -> str:
    """The name a user knows a model by: its training run first (every run exports to the same
    model.onnx), then the file: 'cpu-recurrent / model.onnx'."""
    run = str((getattr(model, "metadata", None) or {}).get("run_name") or "").strip()
    file_name = Path(model.path).name
    return f"{run} / {file_name}" if run else file_name


def warm_up_exact_search() -> None:
    """Load the exact solver's compiled code now (~0.25 s, holding the GIL) rather than in the
    middle of the first solve, where it would freeze the animation for as long."""
    from model import search

    search.solve(np.zeros(81, dtype=np.int8), limit=2)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `sudoku-jepa-gui [model.onnx]`."""
    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Sudoku JEPA")
    model_path = Path(argv[1]) if len(argv) > 1 else _USE_DEFAULT
    warm_up_exact_search()
    window = MainWindow(model_path=model_path)
    window.show()
    window.board.setFocus()
    QTimer.singleShot(0, window.board.setFocus)
    # Ctrl+C / SIGTERM close the window properly (worker stopped, settings saved). Qt's loop runs
    # no Python between events, so a slow timer lets the interpreter see the signal.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: window.close())
    signal_pump = QTimer()
    signal_pump.timeout.connect(lambda: None)
    signal_pump.start(250)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
