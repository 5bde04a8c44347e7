"""Persistent app settings (QSettings): window geometry, last model, solver settings, view.

Every read is validated: a missing, junk or out-of-range value falls back to its default and is
recorded in `problems`, so a damaged settings file costs a message, never a crash.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "sudoku-jepa"
APPLICATION = "sudoku-jepa-gui"

# name -> (type, lowest, highest): the solver settings the panel shows
SOLVER_FIELDS: dict[str, tuple[type, float, float]] = {
    "steps": (int, 0, 5000),
    "chains": (int, 1, 256),
    "step_size": (float, 0.0, 100.0),
    "noise": (float, 0.0, 100.0),
    "seed": (int, 0, 2**31 - 1),
}


class AppSettings:
    """Typed, validated access to one QSettings store (tests pass an ini file of their own)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings(ORGANISATION, APPLICATION)
        self.problems: list[str] = []
        if self.store.status() != QSettings.Status.NoError:
            self.problems.append(
                f"settings file {self.location()} could not be read "
                f"({self.store.status().name}); using defaults"
            )

    def location(self) -> str:
        return self.store.fileName()

    # --- reading, with fallbacks ------------------------------------------------------------
    def _number(self, key: str, kind: type, low: float, high: float, default):
        raw = self.store.value(key)
        if raw is None:
            return default
        try:
            value = kind(float(raw)) if kind is int else kind(raw)
        except (TypeError, ValueError):
            self.problems.append(f"setting {key!r} = {raw!r} is not a number; using {default}")
            return default
        if not low <= value <= high:
            self.problems.append(
                f"setting {key!r} = {value} is outside {low}..{high}; using {default}"
            )
            return default
        return value

    def geometry(self) -> QByteArray | None:
        raw = self.store.value("window/geometry")
        return raw if isinstance(raw, QByteArray) and not raw.isEmpty() else None

    def set_geometry(self, geometry: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)

    def last_model(self) -> Path | None:
        raw = self.store.value("model/last_path")
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str):
            self.problems.append(f"setting 'model/last_path' = {raw!r} is not a path; ignored")
            return None
        return Path(raw)

    def set_last_model(self, path: Path | str) -> None:
        self.store.setValue("model/last_path", str(path))

    def solver_settings(self) -> dict[str, float] | None:
        """The saved solver settings, or None when none were saved (use the model's defaults)."""
        if self.store.value("solver/steps") is None:
            return None
        values = {}
        for name, (kind, low, high) in SOLVER_FIELDS.items():
            value = self._number(f"solver/{name}", kind, low, high, None)
            if value is None:
                return None
            values[name] = value
        return values

    def set_solver_settings(self, values: dict[str, float]) -> None:
        for name in SOLVER_FIELDS:
            self.store.setValue(f"solver/{name}", values[name])

    def speed(self) -> int:
        return self._number("solver/speed", int, 0, 1000, 12)

    def set_speed(self, steps_per_second: int) -> None:
        self.store.setValue("solver/speed", int(steps_per_second))

    def exact_finish(self) -> bool:
        raw = self.store.value("solver/exact_finish")
        if raw is None:
            return True
        return str(raw).lower() in ("true", "1", "yes")

    def set_exact_finish(self, on: bool) -> None:
        self.store.setValue("solver/exact_finish", bool(on))

    def view_mode(self, choices: tuple[str, ...], default: str) -> str:
        raw = self.store.value("view/mode")
        if raw is None:
            return default
        if raw not in choices:
            self.problems.append(f"setting 'view/mode' = {raw!r} is not one of {choices}")
            return default
        return str(raw)

    def set_view_mode(self, mode: str) -> None:
        self.store.setValue("view/mode", mode)

    def last_directory(self) -> str:
        raw = self.store.value("files/last_directory")
        return raw if isinstance(raw, str) and Path(raw).is_dir() else str(Path.home())

    def set_last_directory(self, path: Path | str) -> None:
        self.store.setValue("files/last_directory", str(path))

    # --- writing ----------------------------------------------------------------------------
    def save(self) -> str | None:
        """Flush to disk; a message when that failed (read-only file or folder), else None."""
        self.store.sync()
        if self.store.status() == QSettings.Status.AccessError:
            return f"settings could not be saved to {self.location()}: not writable"
        if self.store.status() == QSettings.Status.FormatError:
            return f"settings file {self.location()} is malformed; settings were not saved"
        return None
