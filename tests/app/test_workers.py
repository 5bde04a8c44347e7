"""The descent worker on a real model: backpressure, pause, single steps, a prompt stop."""

from PySide6.QtCore import Qt

from app import puzzle_library
from app.workers import MAX_IN_FLIGHT, DescentWorker, WorkerThread
from model.runtime import EnergyModel

DIRECT = Qt.ConnectionType.DirectConnection  # record in the worker thread: no event loop needed


def test_backpressure_pause_step_and_stop(qtbot, tiny_onnx_model):
    model = EnergyModel.load(tiny_onnx_model, provider="cpu")
    settings = model.default_settings()
    settings.steps = 200
    puzzle = puzzle_library.load_library()[0].puzzle
    worker = DescentWorker(model, puzzle, settings, steps_per_second=0, finish=False, run_id=7)
    shown, outcomes = [], []
    worker.yielded.connect(lambda run_id, step: shown.append((run_id, step.step)), DIRECT)
    worker.returned.connect(lambda run_id, outcome: outcomes.append(outcome), DIRECT)
    job = WorkerThread(worker)
    job.start()

    qtbot.waitUntil(lambda: len(shown) == MAX_IN_FLIGHT, timeout=30000)
    qtbot.wait(300)
    assert len(shown) == MAX_IN_FLIGHT  # nothing acknowledged: the worker waits for the window
    worker.pause()
    for _ in range(MAX_IN_FLIGHT):
        worker.ack()
    qtbot.wait(300)
    assert len(shown) == MAX_IN_FLIGHT  # paused
    worker.step_once()
    qtbot.waitUntil(lambda: len(shown) == MAX_IN_FLIGHT + 1, timeout=10000)
    qtbot.wait(200)
    assert [s for _, s in shown] == list(range(MAX_IN_FLIGHT + 1))
    assert {run_id for run_id, _ in shown} == {7}

    assert job.shutdown(5000)  # stops promptly from the paused state
    assert not job.is_running()
    assert len(outcomes) == 1 and outcomes[0].stopped
    assert outcomes[0].steps == MAX_IN_FLIGHT + 1
