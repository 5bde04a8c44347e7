"""File > Export animation: a valid APNG of board + plot, one frame per kept step."""

import struct

import pytest

from app import puzzle_library
from app.animation_export import kept_steps
from app.apng import apng, chunks


def tiny_png(colour: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage

    image = QImage(4, 3, QImage.Format.Format_RGB32)
    image.fill(colour)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def test_apng_has_one_control_chunk_per_frame_and_sequence_numbers_in_order(qtbot):
    data = apng([tiny_png(0xFF0000), tiny_png(0x00FF00), tiny_png(0x0000FF)], [100, 100, 900])
    kinds = [kind for kind, _ in chunks(data)]
    assert kinds[:3] == [b"IHDR", b"acTL", b"fcTL"] and kinds[-1] == b"IEND"
    assert struct.unpack(">II", dict(chunks(data))[b"acTL"]) == (3, 0)
    sequence = [struct.unpack(">I", body[:4])[0] for kind, body in chunks(data)
                if kind in (b"fcTL", b"fdAT")]
    assert sequence == list(range(len(sequence)))
    delays = [struct.unpack(">HH", body[20:24]) for kind, body in chunks(data) if kind == b"fcTL"]
    assert delays == [(100, 1000), (100, 1000), (900, 1000)]
    with pytest.raises(ValueError):
        apng([tiny_png(0)], [])


def test_kept_steps_spread_and_keep_both_ends():
    assert kept_steps(5, 10) == [0, 1, 2, 3, 4]
    kept = kept_steps(1025, 120)
    assert kept[0] == 0 and kept[-1] == 1024 and len(kept) <= 120


def test_window_exports_the_current_puzzle(qtbot, app_settings, shipped_model, tmp_path):
    from app.main import MainWindow

    window = MainWindow(settings=app_settings, model_path=shipped_model, dialogs=False,
                        example=False)
    qtbot.addWidget(window)
    window.load_puzzle(puzzle_library.load_library()[0].puzzle, "test")
    window.panel.steps.setValue(3)
    out = tmp_path / "run.png"
    assert window.export_animation(out)
    kinds = [kind for kind, _ in chunks(out.read_bytes())]
    assert kinds.count(b"fcTL") == 4  # steps 0..3
    assert not (tmp_path / "run.png.tmp").exists()
