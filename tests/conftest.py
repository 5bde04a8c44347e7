"""Shared fixtures: a tiny trained and exported model (once per session), the shipped model.

Imports of torch and training stay inside the fixtures, so test modules that never ask for a
model (the Sudoku core, the app) do not pay for torch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = ROOT / "assets" / "model.onnx"
# Steps of the session's tiny model: a fixed count, so the model (and every test that uses it) is
# the same however busy the machine is (a time budget gave 80 steps on a loaded 2-core machine
# and a few hundred on an idle one). 120 is the tiny preset's own schedule: ~30 s idle here.
TINY_STEPS = 120


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of the `tiny` preset, trained briefly: checkpoints + export/model.onnx.

    Trained once per test session through the documented CLI (`sudoku-jepa train --preset tiny
    --steps ...`) in a subprocess, so the trainer's signal handlers and thread settings stay
    out of the test process (~40-80 s here). The exported model is real (energy gradient in the
    graph) but weak: it learns enough that the energy descent visibly lowers the energy.
    """
    parent = tmp_path_factory.mktemp("runs")
    command = [sys.executable, "-m", "training.cli", "train", "--preset", "tiny",
               "--steps", str(TINY_STEPS), "--out", str(parent), "--name", "tiny", "--quiet"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    path = parent / "tiny"
    assert done.returncode == 0, (
        f"tiny training run failed (exit {done.returncode}): {' '.join(command)}\n{done.stderr}")
    model = path / "export" / "model.onnx"
    if not model.is_file():  # the trainer's automatic export is best-effort: do it here
        from model.export import export_checkpoint

        best = path / "checkpoints" / "best.pt"
        export_checkpoint(best if best.is_file() else path / "checkpoints" / "latest.pt", model)
    return path


@pytest.fixture(scope="session")
def tiny_onnx_model(tiny_run: Path) -> Path:
    """Path of the tiny run's exported solver file (`runs/<name>/export/model.onnx` layout)."""
    return tiny_run / "export" / "model.onnx"


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_run: Path) -> Path:
    """The tiny run's checkpoint the export came from (best, else latest)."""
    best = tiny_run / "checkpoints" / "best.pt"
    return best if best.is_file() else tiny_run / "checkpoints" / "latest.pt"


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    """assets/model.onnx, the model `make run` ships; skips when it has not been trained yet."""
    if not SHIPPED_MODEL.is_file():
        pytest.skip(f"no shipped model at {SHIPPED_MODEL} (train the cpu preset and export it)")
    return SHIPPED_MODEL
