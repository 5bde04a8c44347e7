"""`make run`'s first step: find the system libraries Qt's X11 plugin needs and install them.

PySide6's wheels bring Qt but not the X11 client libraries its xcb platform plugin links against
(libxcb-cursor0, libxcb-icccm4, ...). Without them Qt stops with "no Qt platform plugin could be
initialized", which names no package. `ldd` on the plugin lists every library the loader cannot
find; each maps to a Debian/Ubuntu package. As root we apt-get them; otherwise we print the exact
command and stop. Runs with the venv's Python but imports no Qt module (that would be the crash).

    python -m app.system_libraries [--check]   # --check: report only, never install
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Libraries whose Debian package name does not follow the soname rule in `debian_package`.
KNOWN_PACKAGES: dict[str, str] = {
    "libxcb-util.so.1": "libxcb-util1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libXrender.so.1": "libxrender1",
    "libXext.so.6": "libxext6",
    "libXi.so.6": "libxi6",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_SONAME = re.compile(r"^(lib.+?)\.so\.(\d+)")


def missing_libraries(ldd_output: str) -> list[str]:
    """The sonames `ldd` could not resolve, each once, in the order listed."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def debian_package(soname: str) -> str:
    """The Debian package that ships `soname`: the known table, else Debian's naming rule
    (lowercase name + soversion, with a '-' when the name ends in a digit):
    libxcb-cursor.so.0 -> libxcb-cursor0, libfoo2.so.1 -> libfoo2-1."""
    if soname in KNOWN_PACKAGES:
        return KNOWN_PACKAGES[soname]
    match = _SONAME.match(soname)
    if match is None:
        return soname.lower()
    name, version = match.group(1).lower(), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def packages_for(sonames: list[str]) -> list[str]:
    """Debian packages for the missing libraries, each once, sorted."""
    return sorted({debian_package(name) for name in sonames})


def install_command(packages: list[str], as_root: bool) -> list[str]:
    """The apt-get command that installs `packages` (sudo when not root)."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    return command if as_root else ["sudo", *command]


def xcb_plugin() -> Path | None:
    """Qt's X11 platform plugin inside the installed PySide6 (found without importing Qt)."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(next(iter(spec.submodule_search_locations))) / "Qt/plugins/platforms/libqxcb.so"
    return plugin if plugin.is_file() else None


def run_ldd(path: Path) -> str:
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
    return result.stdout


def ensure(check_only: bool = False) -> int:
    """0 when Qt's X11 plugin can load (after installing what it lacks, as root), else 1."""
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return 0  # macOS / Windows wheels carry what they need
    plugin = xcb_plugin()
    if plugin is None:
        print("system libraries: PySide6's xcb plugin not found; skipping the check",
              file=sys.stderr)
        return 0
    missing = missing_libraries(run_ldd(plugin))
    if not missing:
        return 0
    packages = packages_for(missing)
    as_root = os.geteuid() == 0
    command = install_command(packages, as_root)
    print(f"Qt's X11 plugin needs system libraries that are missing: {', '.join(missing)}",
          file=sys.stderr)
    if check_only or not as_root or shutil.which("apt-get") is None:
        print("Install them with:\n    " + " ".join(command), file=sys.stderr)
        if shutil.which("apt-get") is None:
            print("(no apt-get here: install the packages that provide those libraries)",
                  file=sys.stderr)
        return 1
    print("Installing: " + " ".join(command), file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    if subprocess.run(command, check=False).returncode != 0:
        return 1
    still = missing_libraries(run_ldd(plugin))
    if still:
        print(f"still missing after the install: {', '.join(still)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return ensure(check_only="--check" in argv)


if __name__ == "__main__":
    sys.exit(main())
