"""The one atomic write: a reader sees the old file or the new one, never half, never a temp."""

import os

import pytest

from model import atomic_file
from model.atomic_file import atomic_write_bytes, atomic_write_text, temp_file_writer, temp_path


def test_writes_creates_parent_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "state.json"
    with pytest.raises(FileNotFoundError):
        atomic_write_text(path, "{}\n")
    atomic_write_text(path, "{}\n", make_parents=True)
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_previous_file_and_removes_the_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_file.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_temp_names_carry_the_writer_pid(tmp_path):
    tmp = temp_path(tmp_path / "latest.pt")
    assert tmp.parent == tmp_path and temp_file_writer(tmp) == os.getpid()
    assert temp_file_writer(tmp_path / "latest.pt") is None
    assert temp_file_writer(tmp_path / "latest.pt.x.tmp") is None
