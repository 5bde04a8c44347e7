"""The "Model info" dialog: what the loaded ONNX file says about itself, and how it runs here."""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

# Metadata keys shown in this order first; anything else the file carries follows.
_KNOWN_KEYS = (
    "run_name",
    "created",
    "git_commit",
    "format_version",
    "training_data",
    "val_metrics",
    "default_settings",
    "config",
)
_PARAMETER_KEYS = ("parameters", "n_parameters", "param_count", "num_parameters")


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
            f"<tr><td style='padding-right:12px;color:#555'>{html.escape(str(k))}</td>"
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


def model_info_html(model) -> str:
    """An HTML page describing `model` (an EnergyModel)."""
    metadata: dict[str, Any] = dict(getattr(model, "metadata", {}) or {})
    provider = getattr(model, "provider", "?")
    reason = getattr(model, "provider_reason", "")
    params = parameter_count(metadata)
    parts = [
        "<h3 style='margin-bottom:4px'>Model</h3>",
        "<table cellspacing='0' cellpadding='2'>",
        f"<tr><td><b>file</b></td><td>{html.escape(str(getattr(model, 'path', '?')))}</td></tr>",
        f"<tr><td><b>provider in use</b></td><td>{html.escape(str(provider).upper())}"
        + (f" <span style='color:#555'>({html.escape(reason)})</span>" if reason else "")
        + "</td></tr>",
        f"<tr><td><b>parameters</b></td><td>{params:,}</td></tr>" if params else "",
        "</table>",
    ]
    keys = [k for k in _KNOWN_KEYS if k in metadata] + sorted(
        k for k in metadata if k not in _KNOWN_KEYS
    )
    for key in keys:
        title = "architecture (config)" if key == "config" else key.replace("_", " ")
        parts.append(f"<h4 style='margin-bottom:2px'>{html.escape(title)}</h4>")
        parts.append(_format_value(_decoded(metadata[key])))
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
