"""Qt tests run offscreen, with settings in a throwaway ini file (never the user's)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from app.settings import AppSettings  # noqa: E402


@pytest.fixture
def app_settings(tmp_path) -> AppSettings:
    """Settings stored in this test's own ini file."""
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
