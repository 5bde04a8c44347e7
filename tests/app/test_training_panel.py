"""The Training tab with pytest-qt (offscreen): hand-written run folders, then a real tiny run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from app.run_form import RunForm  # noqa: E402
from app.training_panel import TrainingPanel  # noqa: E402
from tests.app.test_run_monitor import make_run, state  # noqa: E402
from training.exit_codes import EXIT_MODEL  # noqa: E402


def rows(first: int, last: int, eval_every: int = 5) -> list[dict]:
    out = []
    for step in range(first, last + 1):
        row = {"step": step, "time": 0.0, "elapsed_s": step * 0.1, "lr": 1e-3,
               "loss": 2.0 / step, "loss_energy": 0.5 / step, "loss_vicreg": 0.3,
               "loss_ce": 1.0 / step, "loss_constraint": 0.1, "samples_per_s": 80.0,
               "eta_s": (100 - step) * 0.1}
        if step % eval_every == 0:
            row.update(val_cell_acc=0.5 + step / 400, val_puzzle_acc=step / 200,
                       z_context_var=0.8, energy_gap=0.1)
        out.append(row)
    return out


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = TrainingPanel(tmp_path / "runs")
    widget.timer.stop()  # the tests drive refresh() themselves
    qtbot.add_widget(widget)
    return widget


def row_of(panel: TrainingPanel, name: str) -> int:
    return next(i for i, r in enumerate(panel.runs) if r.name == name)


def test_lists_healthy_and_broken_runs_without_crashing(panel, tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "good", state("finished", step=100), rows=rows(1, 100), export=True)
    make_run(runs, "gone", state("running", pid=999_999_9))
    make_run(runs, "nockpt", state("stopped"), checkpoint=False)
    cut = make_run(runs, "cut", state("stopped", step=20), rows=rows(1, 10))
    with (cut / "metrics.jsonl").open("a") as f:
        f.write('{"step": 11, "loss"')
    broken = make_run(runs, "broken", state=None)
    (broken / "state.json").write_text("{not json")
    (runs / "stray.txt").write_text("junk")
    panel.refresh()
    labels = {panel.table.item(r, 0).text(): panel.table.item(r, 1).text()
              for r in range(panel.table.rowCount())}
    assert labels == {
        "good": "finished",
        "gone": "stopped (process gone)",
        "nockpt": "stopped (no checkpoint)",
        "cut": "stopped",
        "broken": "incomplete (state.json is not valid JSON (line 1))",
    }
    assert panel.table.item(row_of(panel, "good"), 3).text() == "25.0% / 80.0%"
    for name in labels:  # selecting each one is safe too
        panel.table.selectRow(row_of(panel, name))
        assert panel.selected.name == name
    panel.select_run(cut)
    assert panel.plots.point_count("loss") == 10  # the partial 11th line is not plotted
    assert not panel.resume_button.isEnabled() or panel.selected_info.can_resume


def test_a_hidden_panel_reads_nothing_on_its_timer(panel, tmp_path, monkeypatch):
    monkeypatch.setattr("app.run_form._preset_configs", {})  # no preset probe when shown
    make_run(tmp_path / "runs", "later", state("finished", step=100))
    panel._tick()  # hidden (another tab is showing): no scan
    assert panel.runs == []
    panel.show()  # showing it refreshes at once
    assert [r.name for r in panel.runs] == ["later"]


def test_plots_and_progress_follow_a_growing_metrics_file(panel, tmp_path, monkeypatch):
    monkeypatch.setattr("app.run_monitor.pid_is_trainer", lambda pid: True)
    run = make_run(tmp_path / "runs", "live", state("running", pid=os.getpid(), step=20),
                   rows=rows(1, 20))
    panel.refresh()
    panel.select_run(run)
    assert panel.plots.point_count("loss") == 20
    assert panel.plots.point_count("val_puzzle_acc") == 4
    assert panel.progress_bar.value() == 200
    assert "ETA 8s" in panel.progress_bar.format()
    assert panel.stop_button.isEnabled() and not panel.resume_button.isEnabled()
    with (run / "metrics.jsonl").open("a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows(21, 30)))
        f.write(json.dumps(rows(31, 31)[0])[:25])  # the writer is mid-line
    (run / "train.log").write_text("step 30 loss 0.07\n")
    panel.refresh()
    assert panel.plots.point_count("loss") == 30
    assert panel.plots.point_count("val_cell_acc") == 6
    assert panel.progress_bar.value() == 300
    assert "step 30 loss" in panel.log_view.toPlainText()


def test_failed_run_shows_the_end_of_its_log(panel, tmp_path):
    run = make_run(tmp_path / "runs", "bad", state("failed", message="RuntimeError: boom"))
    (run / "train.log").write_text("".join(f"line {i}\n" for i in range(50)) + "Traceback\n")
    panel.refresh()
    panel.select_run(run)
    assert not panel.message.isHidden()
    assert "RuntimeError: boom" in panel.message.text()
    assert "Traceback" in panel.message.text() and "line 49" in panel.message.text()
    assert "line 40\n" not in panel.message.text()  # the last lines only; the Log tab has all
    assert panel.resume_button.isEnabled()


def test_use_in_solver_emits_the_export_path(panel, qtbot, tmp_path):
    run = make_run(tmp_path / "runs", "done", state("finished", step=100), export=True)
    panel.refresh()
    panel.select_run(run)
    assert panel.use_button.isEnabled()
    with qtbot.waitSignal(panel.use_model_requested, timeout=1000) as signal:
        panel.use_button.click()
    assert signal.args == [str((run / "export" / "model.onnx").resolve())]
    assert panel.current_model == (run / "export" / "model.onnx").resolve()


def test_compare_falls_back_to_metrics_of_the_run(panel, tmp_path):
    run = make_run(tmp_path / "runs", "done", state("finished", step=100), rows=rows(1, 20))
    panel.refresh()
    panel.select_run(run)
    panel.compare_button.click()
    assert panel.compare_table.item(1, 0).text() == "20"
    assert panel.compare_table.item(2, 0).text() == "55.0%"  # val_cell_acc at step 20
    assert panel.compare_table.item(3, 0).text() == "10.0%"
    assert panel.compare_table.item(0, 1).text() == "none"


def test_stop_signals_a_run_started_elsewhere(panel, tmp_path):
    trainer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "train"])
    try:
        run = make_run(tmp_path / "runs", "terminal", state("running", pid=trainer.pid))
        panel.refresh()
        panel.select_run(run)
        assert panel.stop_button.isEnabled()
        panel.stop_button.click()
        assert trainer.wait(timeout=10) == -15  # SIGTERM
    finally:
        trainer.kill()


def test_form_shows_reasons_beside_fields_and_builds_the_command(qtbot, tmp_path):
    form = RunForm(tmp_path / "runs")
    qtbot.add_widget(form)
    assert form.start_button.isEnabled()
    form.length.setText("-3")
    form.batch_size.setText("abc")
    form.lr.setText("5")
    form.givens.setText("30-20")
    form.name.setText("bad name!")
    errors = form.errors()
    assert set(errors) == {"length", "batch_size", "lr", "givens", "name"}
    assert form.fields["lr"].error.text().startswith("learning rate must be")
    assert not form.fields["lr"].error.isHidden()
    assert form.fields["model_dim"].error.isHidden()
    assert not form.start_button.isEnabled() and form.settings() is None
    (tmp_path / "runs" / "taken").mkdir(parents=True)
    form.name.setText("taken")
    assert "already exists" in form.errors()["name"]
    form.length_kind.setCurrentText("minutes")
    form.length.setText("1.5")
    form.batch_size.setText("32")
    form.lr.setText("2e-3")
    form.givens.setText("25-35")
    form.model_dim.setText("64")
    form.name.setText("mine")
    form.curriculum.setChecked(True)
    settings = form.settings()
    assert settings is not None
    args = settings.train_args()
    assert args[:2] == ["train", "--preset"] and "--minutes" in args and "1.5" in args
    assert args[args.index("--name"):args.index("--name") + 2] == ["--name", "mine"]
    sets = {args[i + 1] for i, a in enumerate(args) if a == "--set"}
    assert sets == {"batch_size=32", "lr=0.002", "model.d_model=64",
                    "data.bands=[[31, 35], [28, 31], [25, 28]]",
                    "data.start_weights=[1.0, 0.0, 0.0]", "data.end_weights=[0.3, 0.2, 0.5]"}
    form.curriculum.setChecked(False)
    args = form.settings().train_args()
    assert "data.bands=[[25, 35]]" in args and "data.end_weights=[1.0]" in args
    form.out_dir.setText(str(tmp_path / "runs" / "taken" / "x"))
    assert not form.errors()  # a folder below an existing one is created on start
    (tmp_path / "file").write_text("")
    form.out_dir.setText(str(tmp_path / "file"))
    assert "is a file" in form.errors()["out_dir"]


def test_placeholders_show_the_presets_values(qtbot, tmp_path, monkeypatch):
    configs = {
        "tiny": {"total_steps": 120, "minutes": None, "batch_size": 32, "lr": 0.003,
                 "model": {"d_model": 32}, "data": {"bands": [[34, 44]]}},
        "cpu": {"total_steps": 4000, "minutes": 60.0, "batch_size": 64, "lr": 0.002,
                "model": {"d_model": 96}, "data": {"bands": [[30, 40], [25, 30], [17, 25]]}},
    }
    monkeypatch.setattr("app.run_form._preset_configs", configs)
    form = RunForm(tmp_path)
    qtbot.add_widget(form)
    form.show_preset_hints()
    assert form.length.placeholderText() == "preset: 120 steps"
    assert form.lr.placeholderText() == "preset: 0.003"
    assert form.givens.placeholderText() == "preset: 34-44"
    form.preset.setCurrentText("cpu")
    assert form.length.placeholderText() == "preset: a 60-minute budget"
    assert form.model_dim.placeholderText() == "preset: 96"
    assert form.givens.placeholderText() == "preset: 30-40, 25-30, 17-25 (curriculum)"
    form.preset.setCurrentText("gpu")  # unknown to the probe: the generic text
    assert form.batch_size.placeholderText() == "preset default"


def test_unavailable_device_is_disabled_with_its_reason(qtbot, tmp_path):
    form = RunForm(tmp_path)
    qtbot.add_widget(form)
    reason = form.devices["cuda"]
    cuda = form.device.findData("cuda")
    if reason:
        assert reason in form.device.itemText(cuda)
        assert not form.device.model().item(cuda).isEnabled()
    else:
        assert form.device.itemText(cuda) == "cuda"


def wait_for(qtbot, condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        qtbot.wait(200)


def test_resume_of_a_corrupt_checkpoint_shows_the_trainers_error(panel, qtbot, tmp_path):
    """A real `sudoku-jepa train --resume` that fails: its exit code and words reach the panel."""
    run = make_run(tmp_path / "runs", "damaged", state("stopped", step=10))  # latest.pt = b"x"
    panel.refresh()
    panel.select_run(run)
    assert panel.resume_button.isEnabled()
    panel.resume_button.click()
    assert "Started: sudoku-jepa train --resume" in panel.message.text()
    process = panel.launcher.processes[run]
    assert process.waitForFinished(60_000)
    qtbot.wait(50)  # deliver the finished signal
    assert process.exitCode() == EXIT_MODEL
    text = panel.message.text()
    assert f"exited with code {EXIT_MODEL}" in text and "checkpoint" in text, text
    assert panel.selected_info.label == "stopped"  # the folder is untouched


def test_process_gone_explains_itself(panel, tmp_path):
    run = make_run(tmp_path / "runs", "gone", state("running", pid=999_999_9))
    panel.refresh()
    panel.select_run(run)
    assert "process is gone" in panel.message.text()
    assert panel.resume_button.isEnabled() and not panel.stop_button.isEnabled()


EASY_SOLUTION = (
    "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
)


@pytest.mark.slow
def test_start_watch_stop_resume_export_and_use_a_tiny_run(qtbot, tmp_path, monkeypatch,
                                                           app_settings):
    """The whole loop through the panel with a real `sudoku-jepa train` process."""
    monkeypatch.chdir(tmp_path)
    panel = TrainingPanel("runs")  # relative, as the app opens it
    qtbot.add_widget(panel)
    panel.show()  # the timer only refreshes a visible panel
    panel.timer.setInterval(250)
    form = panel.form
    form.preset.setCurrentText("tiny")
    form.length_kind.setCurrentText("steps")
    form.length.setText("16")
    form.device.setCurrentIndex(form.device.findData("cpu"))
    form.name.setText("it")
    settings = form.settings()
    assert settings is not None
    # Smaller evaluation than the preset so the test stays near a minute on a busy 2-core box.
    settings.overrides.update({"eval_every": "8", "log_every": "2", "data.val_size": "16",
                               "energy_gap_size": "8"})
    t0 = time.monotonic()

    def phase(what: str) -> None:  # shown when the test fails: where the time went
        print(f"{time.monotonic() - t0:6.1f}s {what}")

    process = panel.start_run(settings)
    run = tmp_path / "runs" / "it"
    assert panel.selected.resolve() == run

    wait_for(qtbot, lambda: panel.plots.point_count("loss") > 0, 90, "the first metrics row")
    phase("first metrics row plotted")
    assert panel.selected_info.state == "running"
    assert [item.text() for item in panel.table.selectedItems()][:2] == ["it", "running"]
    assert panel.stop_button.isEnabled()
    assert panel.progress_bar.value() > 0

    panel.stop_button.click()
    assert process.waitForFinished(60_000)
    assert process.exitCode() == 0
    wait_for(qtbot, lambda: panel.selected_info.label == "stopped", 10, "state 'stopped'")
    phase("stopped")
    stopped_at = panel.selected_info.step
    assert 0 < stopped_at < 16
    assert (run / "checkpoints" / "latest.pt").is_file()
    assert panel.resume_button.isEnabled()

    panel.resume_button.click()
    resumed = panel.launcher.processes[panel.selected]
    assert resumed is not process
    wait_for(qtbot, lambda: resumed.state() == resumed.ProcessState.NotRunning, 240,
             "the resumed run to finish")
    phase("resumed run finished and exported")
    assert resumed.exitCode() == 0, panel.message.text()
    wait_for(qtbot, lambda: panel.use_button.isEnabled(), 10, "the exported model")
    assert panel.selected_info.label == "finished"
    assert panel.progress_bar.value() == 1000
    steps = [row["step"] for row in panel.tail.rows]
    assert steps == sorted(steps) and steps[-1] == 16  # one curve, no duplicate steps after resume
    assert panel.plots.point_count("val_cell_acc") >= 2

    with qtbot.waitSignal(panel.use_model_requested, timeout=2000) as signal:
        panel.use_button.click()
    model_path = signal.args[0]
    assert model_path == str((run / "export" / "model.onnx").resolve())
    panel.compare_button.click()
    assert panel.compare_table.item(1, 0).text().isdigit()  # the best checkpoint's step
    assert panel.compare_table.item(2, 0).text().endswith("%")
    assert panel.compare_table.item(0, 1).text() == "it/model.onnx"  # now the current model

    from app.main import MainWindow

    # the app's own Training tab hands the model to the solver
    window = MainWindow(settings=app_settings, model_path=None, dialogs=False, example=False)
    qtbot.add_widget(window)
    tab = window.training_panel
    assert tab is not None
    tab.timer.stop()
    tab.refresh()  # its runs folder is ./runs, the one this test trained into
    tab.select_run(tab.runs_dir / "it")
    tab.use_button.click()
    assert window.model is not None
    assert str(window.model.path) == model_path
    phase("the app's solver loaded the model")

    import numpy as np

    from model.board import is_valid_solution, parse_grid
    from model.runtime import EnergyModel

    solution = parse_grid(EASY_SOLUTION)
    puzzle = solution.copy()
    puzzle[[0, 40, 80]] = 0  # three blanks, each the only empty cell of its row, column and box
    model = EnergyModel.load(model_path, provider="cpu")
    result = model.solve(puzzle)
    assert result.grid.shape == (81,)
    assert np.array_equal(result.grid[puzzle > 0], puzzle[puzzle > 0])
    assert result.valid == is_valid_solution(result.grid, puzzle)
    assert result.valid, "the tiny model should fill three naked singles"

    # Shown, the form asked the training package (in a child Python) for the presets' values.
    wait_for(qtbot, lambda: form.batch_size.placeholderText().startswith("preset: "), 60,
             "the preset probe")
    form.preset.setCurrentText("tiny")
    assert form.length.placeholderText().startswith("preset: ")


# A stand-in trainer: exits 0 one second after SIGTERM, as the real one does after its checkpoint.
SLOW_STOPPER = ("import signal, sys, time\n"
                "signal.signal(signal.SIGTERM, lambda *a: (time.sleep(1.0), sys.exit(0)))\n"
                "print('ready', flush=True)\n"
                "time.sleep(120)\n")


def fake_trainer(qtbot, launcher, run_dir):
    """A QProcess the launcher counts as this run's trainer, without training anything."""
    from PySide6.QtCore import QProcess

    process = QProcess(launcher)
    process.finished.connect(lambda code, _s, d=run_dir: launcher.finished.emit(d, code))
    launcher.processes[run_dir] = process
    process.start(sys.executable, ["-c", SLOW_STOPPER])
    assert process.waitForStarted(30_000)
    assert process.waitForReadyRead(60_000)  # the SIGTERM handler is in place
    return process


def test_a_starting_or_resuming_run_says_so(panel, qtbot, tmp_path):
    runs = tmp_path / "runs"
    new = runs / "new"
    new.mkdir(parents=True)
    (new / "config.json").write_text("{}")  # the trainer wrote its config, not yet its state
    old = make_run(runs, "old", state("stopped", step=10))
    fake_trainer(qtbot, panel.launcher, new)
    fake_trainer(qtbot, panel.launcher, old)
    panel.refresh()
    labels = {panel.table.item(r, 0).text(): panel.table.item(r, 1).text()
              for r in range(panel.table.rowCount())}
    assert labels == {"new": "starting…", "old": "resuming…"}
    panel.select_run(old)
    assert panel.title.text() == "old — resuming…"
    panel.launcher.shutdown(10_000)


def test_a_note_does_not_move_the_tabs(panel, qtbot, tmp_path):
    run = make_run(tmp_path / "runs", "done", state("finished", step=100), rows=rows(1, 20))
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.refresh()
    panel.select_run(run)
    qtbot.wait(50)
    before = panel.tabs.mapTo(panel, panel.tabs.rect().topLeft()).y()
    panel._note(run, "Started: sudoku-jepa train --preset tiny --name " + "x" * 200)
    qtbot.wait(50)
    assert panel.tabs.mapTo(panel, panel.tabs.rect().topLeft()).y() == before
    assert "xxxx" in panel.message.toolTip()


def test_compare_fills_itself_and_follows_a_live_run(panel, qtbot, tmp_path):
    run = make_run(tmp_path / "runs", "live", state("stopped", step=10), rows=rows(1, 10))
    panel.refresh()
    panel.select_run(run)
    panel.tabs.setCurrentWidget(panel.compare_table)  # the tab, not the button
    assert panel.compare_table.item(1, 0).text() == "10"
    with (run / "metrics.jsonl").open("a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows(11, 20)))
    panel.refresh()
    assert panel.compare_table.item(1, 0).text() == "20"


def test_log_lines_wrap_and_long_run_names_are_cut_in_the_middle(panel):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPlainTextEdit

    assert panel.log_view.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth
    assert panel.table.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert not panel.table.wordWrap()
