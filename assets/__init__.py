"""Files shipped with the package: the default ONNX model, its card and the benchmark report."""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL = ASSETS_DIR / "model.onnx"
