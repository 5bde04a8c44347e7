"""The "Model info" dialog: what the loaded ONNX file says about itself, and how it runs here."""

from __future__ import annotations

import hashlib
import html
import json
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from model.runtime import EnergyModel

# Table-valued metadata shown in this order (what a user asks of a model first: its
# architecture, then how good it is, then what it was trained on); scalars go to the summary
# table at the top.
_SECTIONS = (
    ("config", "architecture (config)"),
    ("val_metrics", "validation metrics"),
    ("training_data", "training data"),
    ("default_settings", "default solver settings"),
)
_PARAMETER_KEYS = ("parameters", "n_parameters", "param_count", "num_parameters")


def _muted() -> str:
    """Secondary text that reads on the current palette (a dark theme included)."""
    from PySide6.QtWidgets import QApplication

    from app.help_pages import muted_colour

    return muted_colour(QApplication.palette())


def _decoded(value: Any) -> Any:
    """Metadata values are strings; JSON ones are shown as tables."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        rows = "".join(
            f"<tr><td style='padding-right:12px;color:{_muted()}'>{html.escape(str(k))}</td>"
            f"<td>{_format_value(v)}</td></tr>"
            for k, v in value.items()
        )
        return f"<table cellspacing='0'>{rows}</table>"
    if isinstance(value, list):
        return html.escape(", ".join(str(v) for v in value))
    return html.escape(str(value))


def parameter_count(metadata: dict[str, Any]) -> int | None:
    """The parameter count when the metadata states it (top level or in the config)."""
    config = _decoded(metadata.get("config", "{}"))
    for source in (metadata, config if isinstance(config, dict) else {}):
        for key in _PARAMETER_KEYS:
            if key in source:
                try:
                    return int(source[key])
                except (TypeError, ValueError):
                    return None
    return None


def stored_weight_count(path) -> int | None:
    """Float values stored in the ONNX file, a tensor shared by the encode and step graphs
    counted once: the learned parameters plus fixed float buffers (e.g. the peer matrix)."""
    try:
        import onnx
        from onnx import numpy_helper

        proto = onnx.load(str(path), load_external_data=False)
    except Exception:  # the dialog shows what it can; the runtime already validated the file
        return None
    seen: set[tuple] = set()
    total = 0
    for init in proto.graph.initializer:
        if init.data_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
            continue
        array = numpy_helper.to_array(init)
        if array.size <= 1:
            continue
        key = (array.shape, hashlib.sha1(array.tobytes()).hexdigest())
        if key not in seen:
            seen.add(key)
            total += int(array.size)
    return total


def model_info_html(model: EnergyModel) -> str:
    """An HTML page describing a loaded model: its file, provider and metadata."""
    metadata: dict[str, Any] = dict(model.metadata)
    provider = model.provider
    reason = model.provider_reason
    params = parameter_count(metadata)
    stored = None if params else stored_weight_count(model.path)
    parts = [
        "<h3 style='margin-bottom:4px'>Model</h3>",
        "<table cellspacing='0' cellpadding='2'>",
        f"<tr><td><b>file</b></td><td>{html.escape(str(model.path))}</td></tr>",
        f"<tr><td><b>provider in use</b></td><td>{html.escape(str(provider).upper())}"
        + (f" <span style='color:{_muted()}'>({html.escape(reason)})</span>" if reason else "")
        + "</td></tr>",
        f"<tr><td><b>parameters</b></td><td>{params:,}</td></tr>" if params else "",
        f"<tr><td><b>weights in the file</b></td><td>{stored:,} float values (tensors shared "
        "by the encode and step graphs counted once)</td></tr>" if stored else "",
        "</table>",
    ]
    decoded = {key: _decoded(value) for key, value in metadata.items()}
    scalars = [k for k, v in decoded.items() if not isinstance(v, dict | list)]
    for key in scalars:
        parts.insert(-1, f"<tr><td><b>{html.escape(key.replace('_', ' '))}</b></td>"
                         f"<td>{_format_value(decoded[key])}</td></tr>")
    shown = set(scalars)
    for key, title in _SECTIONS + tuple((k, k.replace("_", " ")) for k in sorted(decoded)):
        if key in shown or key not in decoded:
            continue
        shown.add(key)
        parts.append(f"<h4 style='margin-bottom:2px'>{html.escape(title)}</h4>")
        parts.append(_format_value(decoded[key]) or "<i>none</i>")
    if not metadata:
        parts.append("<p>This file carries no metadata.</p>")
    return "".join(parts)


class ModelInfoDialog(QDialog):
    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model info")
        self.resize(560, 600)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(model_info_html(model))
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
