"""`sudoku-jepa-gui` in a fresh process: opens with the given model, imports no torch, exits 0."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import app.main as entry

    qt_app = QApplication(sys.argv)

    def report():
        window = next(w for w in qt_app.topLevelWidgets() if isinstance(w, entry.MainWindow))
        print("model-loaded", window.model is not None)
        print("puzzle-givens", window.state.given_count())
        print("torch-imported", "torch" in sys.modules)
        window.close()
        qt_app.quit()

    QTimer.singleShot(300, report)
    sys.exit(entry.main(["sudoku-jepa-gui", sys.argv[1]]))
    """
)


def test_entry_point_opens_the_model_without_torch(tiny_onnx_model, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tiny_onnx_model)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "model-loaded True" in done.stdout
    assert "torch-imported False" in done.stdout
    assert "puzzle-givens 0" not in done.stdout  # opens on an example puzzle
    assert (tmp_path / "sudoku-jepa" / "sudoku-jepa-gui.conf").is_file()  # settings saved
