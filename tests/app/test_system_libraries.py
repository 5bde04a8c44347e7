"""`make run`'s system-library check: parsing ldd, naming Debian packages, what it tells a user."""

from pathlib import Path

from app import system_libraries as sl

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
"""


def test_missing_libraries_are_parsed_once_each_in_order():
    assert sl.missing_libraries(LDD_OUTPUT) == [
        "libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"]
    assert sl.missing_libraries("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_sonames_map_to_debian_packages():
    assert sl.debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert sl.debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert sl.debian_package("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert sl.debian_package("libxcb-render-util.so.0") == "libxcb-render-util0"
    assert sl.debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"  # name ends in 1
    assert sl.debian_package("libX11-xcb.so.1") == "libx11-xcb1"
    assert sl.debian_package("libEGL.so.1") == "libegl1"
    assert sl.debian_package("libfoo2.so.3") == "libfoo2-3"
    assert sl.packages_for(sl.missing_libraries(LDD_OUTPUT)) == [
        "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"]


def test_install_command_uses_sudo_only_when_not_root():
    assert sl.install_command(["libxcb-cursor0"], as_root=True)[:2] == ["apt-get", "install"]
    assert sl.install_command(["libxcb-cursor0"], as_root=False) == [
        "sudo", "apt-get", "install", "-y", "--no-install-recommends", "libxcb-cursor0"]


def _fake_system(monkeypatch, tmp_path, uid: int):
    monkeypatch.setattr(sl.sys, "platform", "linux")
    monkeypatch.setattr(sl, "xcb_plugin", lambda: Path(tmp_path / "libqxcb.so"))
    monkeypatch.setattr(sl, "run_ldd", lambda _path: LDD_OUTPUT)
    monkeypatch.setattr(sl.os, "geteuid", lambda: uid)
    calls = []
    monkeypatch.setattr(sl.subprocess, "run", lambda *a, **k: calls.append(a) or None)
    return calls


def test_not_root_stops_with_the_exact_command(monkeypatch, tmp_path, capsys):
    calls = _fake_system(monkeypatch, tmp_path, uid=1000)
    assert sl.ensure() == 1
    err = capsys.readouterr().err
    assert "libxcb-cursor.so.0" in err
    assert ("sudo apt-get install -y --no-install-recommends libxcb-cursor0 libxcb-icccm4 "
            "libxcb-keysyms1 libxkbcommon-x11-0") in err
    assert calls == []  # nothing was run


def test_check_only_never_installs(monkeypatch, tmp_path, capsys):
    calls = _fake_system(monkeypatch, tmp_path, uid=0)
    assert sl.main(["--check"]) == 1
    assert calls == []
    assert "apt-get install" in capsys.readouterr().err


def test_nothing_missing_is_silent(monkeypatch, tmp_path, capsys):
    _fake_system(monkeypatch, tmp_path, uid=1000)
    monkeypatch.setattr(sl, "run_ldd", lambda _path: "\tlibc.so.6 => /lib/libc.so.6 (0x1)\n")
    assert sl.ensure() == 0
    assert capsys.readouterr().err == ""
