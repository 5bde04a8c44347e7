"""The runtime (and the app) run on onnxruntime alone: a fresh process never imports torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_runtime_solve_imports_no_torch(tiny_onnx_model):
    done = _run("""
        import sys
        import numpy as np
        from model.runtime import DescentSettings, EnergyModel
        model = EnergyModel.load(sys.argv[1])
        puzzle = np.zeros(81, np.int8)
        puzzle[:9] = np.arange(1, 10)
        model.solve(puzzle, DescentSettings(steps=3, chains=2, step_size=0.5, noise=0.3))
        for _ in model.descend(puzzle):
            pass
        loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
        print("TORCH:" + ",".join(loaded))
    """, str(tiny_onnx_model))
    assert done.returncode == 0, done.stderr
    assert "TORCH:\n" in done.stdout, done.stdout


def test_app_imports_no_torch():
    done = _run("""
        import os, sys
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        import app.main, model.runtime, model.verified
        bad = [m for m in sys.modules if m.split(".")[0] in ("torch", "training")]
        print("TORCH:" + ",".join(bad))
    """)
    assert done.returncode == 0, done.stderr
    assert "TORCH:\n" in done.stdout, done.stdout
