"""Settings persist, and missing, junk or unwritable settings cost a message, never a crash."""

from PySide6.QtCore import QByteArray, QSettings

from app.settings import AppSettings


def reopen(path) -> AppSettings:
    return AppSettings(QSettings(str(path), QSettings.Format.IniFormat))


def test_round_trip(tmp_path):
    path = tmp_path / "s.ini"
    settings = reopen(path)
    assert settings.solver_settings() is None  # nothing saved: the model's defaults apply
    values = {"steps": 40, "chains": 6, "step_size": 0.25, "noise": 0.02, "seed": 7}
    settings.set_solver_settings(values)
    settings.set_last_model(tmp_path / "m.onnx")
    settings.set_speed(30)
    settings.set_exact_finish(False)
    settings.set_geometry(QByteArray(b"geometry-bytes"))
    assert settings.save() is None
    again = reopen(path)
    assert again.solver_settings() == values
    assert again.last_model() == tmp_path / "m.onnx"
    assert again.speed() == 30
    assert again.exact_finish() is False
    assert bytes(again.geometry()) == b"geometry-bytes"
    assert again.problems == []


def test_junk_values_fall_back_with_a_message(tmp_path):
    path = tmp_path / "s.ini"
    path.write_text(
        "[solver]\nsteps=lots\nchains=3\nstep_size=0.1\nnoise=0\nseed=1\nspeed=-5\n"
        "[view]\nmode=sideways\n"
    )
    settings = reopen(path)
    assert settings.solver_settings() is None
    assert settings.speed() == 12
    assert settings.view_mode(("probabilities", "digits"), "digits") == "digits"
    text = "\n".join(settings.problems)
    assert "'solver/steps'" in text and "'solver/speed'" in text and "'view/mode'" in text


def test_garbage_file_does_not_crash(tmp_path):
    path = tmp_path / "s.ini"
    path.write_bytes(b"\x00\xff[[[not ini\n=\n\x89PNG")
    settings = reopen(path)
    assert settings.solver_settings() is None
    assert settings.speed() == 12


def test_unwritable_location_reports_on_save(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = reopen(blocker / "s.ini")  # its folder cannot exist, even for root
    settings.set_speed(9)
    message = settings.save()
    assert message is not None and "not writable" in message
