"""The "new training run" form: a preset plus the main settings, validated before anything starts.

The form only builds the command line of an ordinary `sudoku-jepa train` process; the trainer owns
the meaning of every setting. A field left blank keeps the preset's value, so the form never has
to copy the presets (the app may not import `training`). Each invalid field shows its reason right
beside it and Start stays disabled until all are valid.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QProcess, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

PRESETS = ("tiny", "cpu", "gpu")
DEVICES = ("auto", "cpu", "cuda")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Config keys the form sets with `--set key=value` (training/presets.py TrainConfig).
KEY_BATCH_SIZE = "batch_size"
KEY_LR = "lr"
KEY_MODEL_DIM = "model.d_model"
KEY_BANDS = "data.bands"  # givens ranges, easiest first
KEY_START_WEIGHTS = "data.start_weights"  # band mixture at step 0
KEY_END_WEIGHTS = "data.end_weights"  # ... from data.curriculum_frac of the run on


def givens_overrides(low: int, high: int, curriculum: bool) -> dict[str, str]:
    """One givens band, or with a curriculum three bands that start on the easiest third and end
    weighted toward the hardest (the trainer's default 0.3 / 0.2 / 0.5 mixture)."""
    if not curriculum or high - low < 3:
        bands, start, end = [[low, high]], [1.0], [1.0]
    else:
        a, b = low + (high - low) // 3, low + 2 * (high - low) // 3
        bands, start, end = [[b, high], [a, b], [low, a]], [1.0, 0.0, 0.0], [0.3, 0.2, 0.5]
    return {KEY_BANDS: json.dumps(bands), KEY_START_WEIGHTS: json.dumps(start),
            KEY_END_WEIGHTS: json.dumps(end)}


# Asked of the training package in a subprocess (the app may not import it): each preset's config.
PRESET_PROBE = ("import json; from training.presets import preset; "
                "print(json.dumps({n: preset(n).to_dict() for n in ('tiny', 'cpu', 'gpu')}))")
_preset_configs: dict[str, dict] | None = None  # filled once per app by the first probe


def preset_hints(config: dict) -> dict[str, str]:
    """Placeholder text for each field from one preset's resolved config: what a blank keeps."""
    hints: dict[str, str] = {}
    minutes, steps = config.get("minutes"), config.get("total_steps")
    if isinstance(minutes, int | float):
        hints["steps"] = hints["minutes"] = f"preset: a {minutes:g}-minute budget"
    elif steps is not None:
        hints["steps"] = hints["minutes"] = f"preset: {steps} steps"
    if "batch_size" in config:
        hints["batch_size"] = f"preset: {config['batch_size']}"
    if isinstance(config.get("lr"), int | float):
        hints["lr"] = f"preset: {config['lr']:g}"
    model = config.get("model") or {}
    if "d_model" in model:
        hints["model_dim"] = f"preset: {model['d_model']}"
    bands = (config.get("data") or {}).get("bands") or []
    try:
        text = ", ".join(f"{low}-{high}" for low, high in bands)
    except (TypeError, ValueError):
        text = ""
    if text:
        hints["givens"] = f"preset: {text}" + (" (curriculum)" if len(bands) > 1 else "")
    return hints


def detect_devices() -> dict[str, str]:
    """Each device -> '' when usable, else why not. CUDA needs onnxruntime's CUDA provider and a
    GPU that `nvidia-smi -L` lists (the app never imports torch to ask)."""
    devices = {"auto": "", "cpu": ""}
    import onnxruntime  # here, not at the top: only the run form asks, once

    providers = onnxruntime.get_available_providers()
    smi = shutil.which("nvidia-smi")
    if "CUDAExecutionProvider" not in providers:
        devices["cuda"] = "onnxruntime has no CUDA provider"
    elif smi is None:
        devices["cuda"] = "no NVIDIA driver (nvidia-smi not found)"
    else:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=5)
            ok = out.returncode == 0 and "GPU" in out.stdout
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        devices["cuda"] = "" if ok else "nvidia-smi lists no GPU"
    return devices


@dataclass
class RunSettings:
    """What the form asks the trainer for; `train_args()` turns it into CLI arguments."""

    preset: str
    out_dir: Path
    name: str
    device: str = "auto"
    steps: int | None = None
    minutes: float | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # config key -> value text

    @property
    def run_dir(self) -> Path:
        return self.out_dir / self.name

    def train_args(self) -> list[str]:
        args = ["train", "--preset", self.preset, "--out", str(self.out_dir), "--name", self.name]
        args += ["--device", self.device]
        if self.steps is not None:
            args += ["--steps", str(self.steps)]
        if self.minutes is not None:
            args += ["--minutes", f"{self.minutes:g}"]
        for key, value in self.overrides.items():
            args += ["--set", f"{key}={value}"]
        return args


def default_run_name(preset: str) -> str:
    return f"{preset}-{datetime.now():%Y%m%d-%H%M%S}"


class _Field:
    """One input with its reason label beside it."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        self.row = QWidget()
        layout = QHBoxLayout(self.row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget, 1)
        layout.addWidget(self.error, 1)

    def set_error(self, reason: str) -> None:
        self.error.setText(reason)
        self.error.setVisible(bool(reason))
        self.widget.setToolTip(reason)


class RunForm(QWidget):
    """Preset, length, batch size, learning rate, model size, givens, device, name, folder."""

    start_requested = Signal(object)  # RunSettings, emitted only when every field is valid
    out_dir_changed = Signal(str)

    def __init__(self, out_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.devices = detect_devices()
        self.preset = QComboBox()
        self.preset.addItems(PRESETS)
        self.length_kind = QComboBox()
        self.length_kind.addItems(["steps", "minutes"])
        self.length = QLineEdit()
        self.batch_size = QLineEdit()
        self.lr = QLineEdit()
        self.model_dim = QLineEdit()
        self.givens = QLineEdit()
        self.curriculum = QCheckBox("curriculum: easiest third first, then harder")
        self.curriculum.setChecked(True)
        self.curriculum.setEnabled(False)
        self.device = QComboBox()
        for name in DEVICES:
            reason = self.devices.get(name, "")
            self.device.addItem(name if not reason else f"{name} (unavailable: {reason})", name)
            if reason:
                self.device.model().item(self.device.count() - 1).setEnabled(False)
        self.name = QLineEdit(default_run_name(PRESETS[0]))
        self.out_dir = QLineEdit(str(out_dir))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(self._start)

        self.placeholders = {
            self.length: "preset default", self.batch_size: "preset default",
            self.lr: "preset default, e.g. 2e-3", self.model_dim: "preset default, e.g. 64",
            self.givens: "preset default, e.g. 17-40",
        }
        for edit, text in self.placeholders.items():
            edit.setPlaceholderText(text)
        self._probe: QProcess | None = None
        self.curriculum.setToolTip("with a givens range: split it into three bands and move "
                                   "from the easiest to the hardest over the run")

        length_row = QWidget()
        row = QHBoxLayout(length_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.length_kind)
        row.addWidget(self.length, 1)
        folder_row = QWidget()
        row = QHBoxLayout(folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.out_dir, 1)
        row.addWidget(browse)

        self.fields = {
            "length": _Field(length_row),
            "batch_size": _Field(self.batch_size),
            "lr": _Field(self.lr),
            "model_dim": _Field(self.model_dim),
            "givens": _Field(self.givens),
            "device": _Field(self.device),
            "name": _Field(self.name),
            "out_dir": _Field(folder_row),
        }
        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("Length", self.fields["length"].row)
        form.addRow("Batch size", self.fields["batch_size"].row)
        form.addRow("Learning rate", self.fields["lr"].row)
        form.addRow("Model size (dim)", self.fields["model_dim"].row)
        form.addRow("Givens range", self.fields["givens"].row)
        form.addRow("", self.curriculum)
        form.addRow("Device", self.fields["device"].row)
        form.addRow("Run name", self.fields["name"].row)
        form.addRow("Output folder", self.fields["out_dir"].row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.start_button)

        for edit in (self.length, self.batch_size, self.lr, self.model_dim, self.givens, self.name):
            edit.textChanged.connect(self.validate)
        self.out_dir.textChanged.connect(self._out_dir_edited)
        self.length_kind.currentIndexChanged.connect(self.validate)
        self.length_kind.currentIndexChanged.connect(self.show_preset_hints)
        self.device.currentIndexChanged.connect(self.validate)
        self.preset.currentTextChanged.connect(self._preset_changed)
        self.validate()

    # -- validation -------------------------------------------------------------------------
    def errors(self) -> dict[str, str]:
        """Field name -> reason, for every invalid field."""
        errors: dict[str, str] = {}
        text = self.length.text().strip()
        if text:
            if self.length_kind.currentText() == "steps":
                value = _parse_int(text)
                if value is None or value < 1:
                    errors["length"] = "steps must be a whole number ≥ 1"
            else:
                value = _parse_float(text)
                if value is None or value <= 0:
                    errors["length"] = "minutes must be a number > 0"
        text = self.batch_size.text().strip()
        if text and not 1 <= (_parse_int(text) or 0) <= 65536:
            errors["batch_size"] = "batch size must be a whole number from 1 to 65536"
        text = self.lr.text().strip()
        if text:
            value = _parse_float(text)
            if value is None or not 0 < value <= 1:
                errors["lr"] = "learning rate must be a number in (0, 1], e.g. 2e-3"
        text = self.model_dim.text().strip()
        if text and not 4 <= (_parse_int(text) or 0) <= 4096:
            errors["model_dim"] = "model size (per-cell width) must be a whole number, 4 to 4096"
        text = self.givens.text().strip()
        self.curriculum.setEnabled(bool(text))
        if text and _parse_range(text) is None:
            errors["givens"] = "givens must be 'low-high' with 17 ≤ low ≤ high ≤ 80"
        device = self.device.currentData()
        if self.devices.get(device, ""):
            errors["device"] = f"{device} unavailable: {self.devices[device]}"
        name = self.name.text().strip()
        out_dir = Path(self.out_dir.text().strip()).expanduser()
        if not NAME_PATTERN.match(name):
            errors["name"] = "name: letters, digits, '.', '_', '-' (up to 64, no spaces)"
        elif (out_dir / name).exists():
            errors["name"] = f"a run named {name!r} already exists in the output folder"
        folder_reason = _folder_problem(out_dir) if self.out_dir.text().strip() else "required"
        if folder_reason:
            errors["out_dir"] = folder_reason
        return errors

    def validate(self) -> bool:
        errors = self.errors()
        for key, item in self.fields.items():
            item.set_error(errors.get(key, ""))
        self.start_button.setEnabled(not errors)
        return not errors

    def settings(self) -> RunSettings | None:
        """The validated settings, or None (the reasons are then shown beside the fields)."""
        if not self.validate():
            return None
        settings = RunSettings(
            preset=self.preset.currentText(),
            out_dir=Path(self.out_dir.text().strip()).expanduser(),
            name=self.name.text().strip(),
            device=self.device.currentData(),
        )
        length = self.length.text().strip()
        if length and self.length_kind.currentText() == "steps":
            settings.steps = _parse_int(length)
        elif length:
            settings.minutes = _parse_float(length)
        if text := self.batch_size.text().strip():
            settings.overrides[KEY_BATCH_SIZE] = str(_parse_int(text))
        if text := self.lr.text().strip():
            settings.overrides[KEY_LR] = f"{_parse_float(text):g}"
        if text := self.model_dim.text().strip():
            settings.overrides[KEY_MODEL_DIM] = str(_parse_int(text))
        if (givens := _parse_range(self.givens.text().strip())) is not None:
            settings.overrides.update(givens_overrides(*givens, self.curriculum.isChecked()))
        return settings

    # -- slots ------------------------------------------------------------------------------
    def _start(self) -> None:
        settings = self.settings()
        if settings is not None:
            self.start_requested.emit(settings)

    def new_name(self) -> None:
        """A fresh default name after a start, so the next Start does not clash."""
        self.name.setText(default_run_name(self.preset.currentText()))

    # -- what the preset would use -------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if _preset_configs is None and self._probe is None:
            self._start_probe()
        self.show_preset_hints()

    def _start_probe(self) -> None:
        """Ask `training.presets` in a child Python for the presets (it imports torch: seconds)."""
        self._probe = QProcess(self)
        self._probe.finished.connect(self._probe_finished)
        self._probe.start(sys.executable, ["-c", PRESET_PROBE])

    def _probe_finished(self, exit_code: int, _status) -> None:
        global _preset_configs
        output = bytes(self._probe.readAllStandardOutput()).decode("utf-8", "replace")
        if exit_code == 0:
            try:
                configs = json.loads(output.strip().splitlines()[-1])
            except (json.JSONDecodeError, IndexError):
                configs = None
            if isinstance(configs, dict):
                _preset_configs = configs
        self.show_preset_hints()

    def show_preset_hints(self) -> None:
        """Placeholders say what a blank field keeps: the preset's own values once known."""
        config = (_preset_configs or {}).get(self.preset.currentText())
        hints = preset_hints(config) if isinstance(config, dict) else {}
        keys = {self.length: self.length_kind.currentText(), self.batch_size: "batch_size",
                self.lr: "lr", self.model_dim: "model_dim", self.givens: "givens"}
        for edit, key in keys.items():
            edit.setPlaceholderText(hints.get(key, self.placeholders[edit]))

    def stop_probe(self) -> None:
        if self._probe is not None and self._probe.state() != QProcess.ProcessState.NotRunning:
            self._probe.kill()
            self._probe.waitForFinished(2000)

    def _preset_changed(self, preset: str) -> None:
        self.show_preset_hints()
        if re.match(r"^(tiny|cpu|gpu)-\d{8}-\d{6}$", self.name.text().strip()):
            self.name.setText(default_run_name(preset))
        if preset == "gpu" and not self.devices.get("cuda"):
            self.device.setCurrentIndex(DEVICES.index("cuda"))
        self.validate()

    def _out_dir_edited(self, text: str) -> None:
        if self.validate() or "out_dir" not in self.errors():
            self.out_dir_changed.emit(text.strip())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Runs folder", self.out_dir.text())
        if folder:
            self.out_dir.setText(folder)


def _parse_int(text: str) -> int | None:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        return None


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _parse_range(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"\s*(\d+)\s*(?:-|–|\.\.|,)\s*(\d+)\s*", text)
    if not match:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    return (low, high) if 17 <= low <= high <= 80 else None


def _folder_problem(path: Path) -> str:
    """'' when runs can be written under `path` (existing, or creatable below an existing one)."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return "no existing folder on this path"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return ""
