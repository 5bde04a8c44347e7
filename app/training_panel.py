"""The Training tab: start, watch, stop, resume and use training runs.

A run started here is an ordinary `sudoku-jepa train` process (QProcess) writing an ordinary run
directory, and the panel watches run directories, not processes: runs started from a terminal show
up the same way, and a crash on either side leaves the other running. The trainer's output goes to
a file, not a pipe, so the trainer never dies on a broken pipe if the app goes away.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QProcess, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.run_form import RunForm, RunSettings
from app.run_launcher import TrainerLauncher
from app.run_monitor import (
    MetricsTail,
    RunInfo,
    format_duration,
    last_eval_row,
    log_tail,
    model_val_metrics,
    progress,
    read_run,
    scan_runs,
    stop_pid,
)

REFRESH_MS = 1000
COLUMNS = ("Run", "State", "Step", "Best puzzle / cell", "Started")
STATE_COLOURS = {"running": "#1a7f37", "failed": "#c0392b", "incomplete": "#b9770e"}
COMPARE_KEYS = (("val_cell_acc", "val. cell accuracy"), ("val_puzzle_acc", "val. puzzle accuracy"))


class TrainingPanel(QWidget):
    """Runs list and form on the left; the selected run's progress, plots and log on the right."""

    use_model_requested = Signal(str)  # path of an exported ONNX model

    def __init__(self, runs_dir: Path | str = "runs", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        self.launcher = TrainerLauncher(self)  # the trainers this panel started
        self.launcher.finished.connect(self._process_finished)
        self.launcher.failed_to_start.connect(self._process_failed_to_start)
        # run dir -> (text, is_error, label it was said under): a note about an action on the run
        # ("Stopping…") lasts until the run's state label changes; label None keeps it.
        self.notes: dict[Path, tuple[str, bool, str | None]] = {}
        self.runs: list[RunInfo] = []
        self.selected: Path | None = None
        self.selected_info: RunInfo | None = None
        self.tail: MetricsTail | None = None
        self.current_model: Path | None = None

        self.form = RunForm(self.runs_dir)
        self.form.start_requested.connect(self.start_run)
        self.form.out_dir_changed.connect(self._runs_dir_changed)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Run names share long prefixes ("tiny-20261206-..."): cut them in the middle, one line.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._table_selection_changed)

        self.title = QLabel("No run selected")
        self.title.setStyleSheet("font-weight: bold; font-size: 13pt;")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("")
        self.stop_button = QPushButton("Stop")
        self.resume_button = QPushButton("Resume")
        self.folder_button = QPushButton("Open folder")
        self.use_button = QPushButton("Use in solver")
        self.compare_button = QPushButton("Compare")
        self.stop_button.clicked.connect(self.stop_selected)
        self.resume_button.clicked.connect(self.resume_selected)
        self.folder_button.clicked.connect(self.open_selected_folder)
        self.use_button.clicked.connect(self.use_selected)
        self.compare_button.clicked.connect(self.compare_selected)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Always in the layout with room for two lines: a note coming and going ("Started: ...")
        # must not push the tabs down and back up.
        self.note_height = 2 * self.message.fontMetrics().lineSpacing() + 4
        self.message.setMinimumHeight(self.note_height)

        from app.run_plots import RunPlots  # pyqtgraph import kept next to its only use

        self.plots = RunPlots()
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.compare_table = QTableWidget(len(COMPARE_KEYS) + 2, 2)
        self.compare_table.setHorizontalHeaderLabels(["Selected run", "Current model"])
        self.compare_table.setVerticalHeaderLabels(
            ["model", "step"] + [label for _, label in COMPARE_KEYS])
        self.compare_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compare_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Plots")
        self.tabs.addTab(self.log_view, "Log")
        self.tabs.addTab(self.compare_table, "Compare")
        self.tabs.currentChanged.connect(lambda _index: self._update_compare())
        self._metrics_cache: dict[Path, tuple[float, dict]] = {}  # export -> (mtime, metrics)

        buttons = QHBoxLayout()
        for button in (self.stop_button, self.resume_button, self.folder_button,
                       self.use_button, self.compare_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.title)
        right_layout.addWidget(self.progress_bar)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.message)
        right_layout.addWidget(self.tabs, 1)
        form_box = QGroupBox("New run")
        form_scroll = QScrollArea()  # a small window scrolls the form instead of growing
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        form_scroll.setWidget(self.form)
        QVBoxLayout(form_box).addWidget(form_scroll)
        runs_box = QGroupBox("Runs")
        QVBoxLayout(runs_box).addWidget(self.table)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(form_box)
        left.addWidget(runs_box)
        left.setStretchFactor(1, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([self.form.sizeHint().width() + 40, 600])
        QVBoxLayout(self).addWidget(splitter)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.refresh()

    # -- starting and stopping ----------------------------------------------------------------
    def start_run(self, settings: RunSettings) -> QProcess:
        """Launch `sudoku-jepa train` for the form's settings and select the new run."""
        settings.out_dir.mkdir(parents=True, exist_ok=True)
        settings.out_dir = settings.out_dir.resolve()  # the trainer may run in another cwd
        if settings.out_dir != self.runs_dir.resolve():
            self._runs_dir_changed(str(settings.out_dir))
        # Keyed like the scanned folders (runs_dir / name), so the list and the selection agree.
        process = self._launch(self.runs_dir / settings.name, settings.train_args())
        self.form.new_name()
        return process

    def resume_selected(self) -> QProcess | None:
        info = self.selected_info
        if info is None or not info.can_resume or self.launcher.is_running(info.path):
            return None
        return self._launch(info.path, ["train", "--resume", str(info.path.resolve())])

    def stop_selected(self) -> None:
        """Graceful stop: SIGTERM, on which the trainer finishes its step, checkpoints, exits 0."""
        info = self.selected_info
        if self.selected is None:
            return
        ours = self.launcher.terminate(self.selected)  # QProcess.terminate: SIGTERM
        if not ours and info is not None and info.state == "running" and info.pid:
            try:
                stop_pid(info.pid)
            except OSError as exc:
                self._note(self.selected, f"Could not stop process {info.pid}: {exc}", error=True)
                return
        self._note(self.selected, "Stopping: the trainer finishes its step, saves a checkpoint "
                   "and exits…", until_change=True)

    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Stop the runs this panel started, gracefully, before the app exits."""
        self.timer.stop()
        self.form.stop_probe()
        self.launcher.shutdown(timeout_ms)

    def _launch(self, run_dir: Path, args: list[str]) -> QProcess:
        process = self.launcher.start(run_dir, args)
        self._note(run_dir, f"Started: sudoku-jepa {' '.join(args)}", until_change=True)
        self.select_run(run_dir)
        return process

    def _process_finished(self, run_dir: Path, exit_code: int) -> None:
        if exit_code != 0:
            self._note(run_dir, f"The trainer exited with code {exit_code} (its output is at the "
                       "end of the Log tab):\n" + _short(self.launcher.output(run_dir, 40)),
                       error=True)
        self.refresh()

    def _process_failed_to_start(self, run_dir: Path, program: str) -> None:
        self._note(run_dir, f"The trainer failed to start: {program}", error=True)
        self.refresh()

    # -- using a run's model ------------------------------------------------------------------
    def use_selected(self) -> None:
        info = self.selected_info
        if info is not None and info.has_export:
            path = str(info.export_path.resolve())
            self.set_current_model(path)
            self.use_model_requested.emit(path)

    def set_current_model(self, path: str | Path | None) -> None:
        """The model the solver uses now: the right-hand column of Compare. When nobody sets it,
        the window's loaded model (`window().model.path`) is used if there is one."""
        self.current_model = Path(path) if path else None

    def current_model_path(self) -> Path | None:
        if self.current_model is not None:
            return self.current_model
        path = getattr(getattr(self.window(), "model", None), "path", None)
        return Path(path) if path else None

    def compare_selected(self) -> None:
        """Show the Compare tab (it fills itself and follows a live run)."""
        self._update_compare()
        self.tabs.setCurrentWidget(self.compare_table)

    def _model_metrics(self, path: Path) -> dict:
        """model_val_metrics, read again only when the file changed (each tick calls this)."""
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return {}
        cached = self._metrics_cache.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, model_val_metrics(path))
            self._metrics_cache[path] = cached
        return cached[1]

    def _update_compare(self) -> None:
        """Validation metrics of the selected run's model beside the current model's."""
        info = self.selected_info
        if info is None:
            self.compare_table.clearContents()
            return
        ours = self._model_metrics(info.export_path) if info.has_export else {}
        if not ours and self.tail is not None:
            ours = dict(last_eval_row(self.tail.rows) or {})
            ours["source"] = "metrics.jsonl"
        current = self.current_model_path()
        theirs = self._model_metrics(current) if current is not None else {}
        columns = [(f"{info.name}", ours), (current.name if current else "none", theirs)]
        if current is not None and current.parent.name == "export":
            columns[1] = (f"{current.parent.parent.name}/{current.name}", theirs)
        for col, (name, metrics) in enumerate(columns):
            self.compare_table.setItem(0, col, QTableWidgetItem(name))
            step = metrics.get("step")
            self.compare_table.setItem(1, col, QTableWidgetItem("–" if step is None else
                                                                str(step)))
            for row, (key, _) in enumerate(COMPARE_KEYS, start=2):
                value = metrics.get(key)
                text = f"{100 * value:.1f}%" if isinstance(value, int | float) else "–"
                self.compare_table.setItem(row, col, QTableWidgetItem(text))

    def open_selected_folder(self) -> None:
        if self.selected is not None and self.selected.exists():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.selected.resolve())))

    # -- watching -----------------------------------------------------------------------------
    def select_run(self, run_dir: Path) -> None:
        run_dir = Path(run_dir)
        if self.selected is not None and run_dir.resolve() == self.selected.resolve():
            return
        self.selected = run_dir
        self.selected_info = read_run(run_dir) if run_dir.exists() else None
        self.tail = MetricsTail(run_dir / "metrics.jsonl")
        self.plots.clear()
        self.log_view.clear()
        for row, info in enumerate(self.runs):
            if info.path == run_dir:
                self.table.selectRow(row)
        self._refresh_selected()

    def _tick(self) -> None:
        if self.isVisible():  # a hidden tab (the user is solving) costs no file reads
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """One tick: rescan the runs folder, then follow the selected run's files."""
        self.runs = scan_runs(self.runs_dir)
        self._fill_table()
        self._refresh_selected()

    def _fill_table(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.runs))
        for row, info in enumerate(self.runs):
            step = "" if info.step is None else str(info.step)
            if info.step is not None and info.total_steps:
                step += f" / {info.total_steps}"
            cells = (info.name, self.state_label(info), step, best_text(info.best),
                     (info.started or "").replace("T", " ")[:16].replace("+00:00", ""))
            for col, text in enumerate(cells):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                if item.text() != text:
                    item.setText(text)
                item.setToolTip(info.reason or info.message)
            self.table.item(row, 1).setForeground(QColor(STATE_COLOURS.get(info.state, "#000")))
            if self.selected is not None and info.path == self.selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)

    def _refresh_selected(self) -> None:
        run_dir = self.selected
        if run_dir is None:
            self._set_buttons(None)
            return
        info = next((r for r in self.runs if r.path == run_dir), None)
        if info is None and run_dir.exists():
            info = read_run(run_dir)
        self.selected_info = info
        if info is None:
            self.title.setText(f"{run_dir.name} — starting…")
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("")
            self._set_buttons(None)
            self._show_messages(run_dir, None)
            return
        new_rows = self.tail.read_new() if self.tail else []
        if self.tail is not None and self.tail.reset:
            self.plots.clear()
            new_rows = list(self.tail.rows)
        if new_rows:
            self.plots.append(new_rows)
        rows = self.tail.rows if self.tail else []
        fraction, eta = progress(info, rows)
        self.title.setText(f"{info.name} — {self.state_label(info)}")
        self.progress_bar.setValue(int(round(1000 * (fraction or 0.0))))
        step = rows[-1].get("step") if rows else info.step
        text = f"step {step if step is not None else '–'}"
        if info.total_steps:
            text += f" / {info.total_steps}"
        if fraction is not None:
            text += f"  ({100 * fraction:.0f}%)"
        if eta is not None:
            text += f"  ·  ETA {format_duration(eta)}"
        self.progress_bar.setFormat(text)
        log = log_tail(run_dir / "train.log", 200)
        if (output := self.launcher.output(run_dir, 200)) and not self.launcher.is_running(run_dir):
            log += f"\n--- trainer output (stdout/stderr) ---\n{output}"
        if log != self.log_view.toPlainText():
            self.log_view.setPlainText(log)
            self.log_view.verticalScrollBar().setValue(self.log_view.verticalScrollBar().maximum())
        self._show_messages(run_dir, info)
        self._set_buttons(info)
        if self.tabs.currentWidget() is self.compare_table:
            self._update_compare()

    def state_label(self, info: RunInfo) -> str:
        """The state as the run's files say, except while a trainer started here has not yet
        written its state: a new run is "starting…" (not "incomplete (state.json missing)"),
        a resumed one "resuming…" (not the "stopped" it was)."""
        if self.launcher.is_running(info.path) and info.state != "running":
            return "starting…" if info.state == "incomplete" else "resuming…"
        return info.label

    def _set_buttons(self, info: RunInfo | None) -> None:
        running = info is not None and (info.state == "running"
                                        or self.launcher.is_running(info.path))
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(info is not None and info.can_resume and not running)
        self.folder_button.setEnabled(info is not None)
        has_export = info is not None and info.has_export
        self.use_button.setEnabled(has_export)
        self.compare_button.setEnabled(info is not None)

    def _table_selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self.runs):
            self.select_run(self.runs[rows[0].row()].path)

    def _runs_dir_changed(self, folder: str) -> None:
        if folder and Path(folder) != self.runs_dir:
            self.runs_dir = Path(folder)
            if self.form.out_dir.text().strip() != folder:
                self.form.out_dir.setText(folder)
            self.refresh()

    def _note(self, run_dir: Path | None, text: str, error: bool = False,
              until_change: bool = False) -> None:
        if run_dir is None:
            return
        label = None
        if until_change:
            info = read_run(run_dir) if run_dir.exists() else None
            label = info.label if info is not None else ""
        self.notes[run_dir] = (text, error, label)
        if run_dir == self.selected:
            self._show_messages(run_dir, self.selected_info)

    def _status_message(self, run_dir: Path, info: RunInfo | None) -> tuple[str, bool]:
        """What the run's own files say needs attention: a failure, a broken folder."""
        if info is None or (info.state == "incomplete" and self.launcher.is_running(run_dir)):
            return "", False  # still starting
        if info.state == "failed":
            last = log_tail(run_dir / "train.log", 12) or self.launcher.output(run_dir)
            return f"Run failed: {_short(info.message, 2)}\n{_short(last, 8)}".strip(), True
        if info.state == "incomplete":
            return f"Incomplete run folder: {info.reason}", True
        if info.reason == "process gone":
            return ("The trainer process is gone without saying it stopped (killed or crashed); "
                    "Resume continues from its latest checkpoint."), False
        if info.reason:
            return f"{info.label}: it cannot be resumed.", False
        return "", False

    def _show_messages(self, run_dir: Path, info: RunInfo | None) -> None:
        note = self.notes.get(run_dir)
        label = info.label if info is not None else ""
        if note is not None and note[2] is not None and note[2] != label:
            del self.notes[run_dir]  # the state moved on: "Stopping…" is over
            note = None
        status, status_error = self._status_message(run_dir, info)
        texts = [t for t in (note[0] if note else "", status) if t]
        error = status_error or (note is not None and note[1])
        text = "\n".join(texts)
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setStyleSheet("color: #c0392b;" if error else "")
        # Notes keep to their two lines (the tooltip has all); an error may take the room it needs.
        self.message.setMaximumHeight(16777215 if error else self.note_height)


def _short(text: str, lines: int = 6, width: int = 160) -> str:
    """The last `lines` lines, each cut to `width` characters: a message, not a log."""
    kept = [line if len(line) <= width else line[: width - 1] + "…"
            for line in text.strip("\n").splitlines()[-lines:]]
    return "\n".join(kept)


def best_text(best: dict) -> str:
    """'12.5% / 97.3%': best validation puzzle and cell accuracy ('' before the first eval)."""
    parts = [best.get(key) for key in ("val_puzzle_acc", "val_cell_acc")]
    if not any(isinstance(p, int | float) for p in parts):
        return ""
    return " / ".join(f"{100 * p:.1f}%" if isinstance(p, int | float) else "–" for p in parts)
