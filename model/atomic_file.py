"""The project's one way to write a file that another process may read while it is written.

Checkpoints, state.json, exported models, benchmark reports and generated puzzle files are read
by other processes (the app, a resumed trainer, a user's shell). Each is written to
`<name>.<pid>.tmp` in the same folder, flushed, fsynced, then renamed over the live path: a
reader sees the old file or the new one, never half of one. The pid in the temp name tells a
later writer whether a leftover temp file's writer is gone (see `temp_file_writer`).
Torch-free and Qt-free.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temp_path(path: Path) -> Path:
    """`dir/name` -> `dir/name.<pid>.tmp`: same folder (so the rename is atomic), one per writer."""
    return path.with_name(f"{path.name}.{os.getpid()}{TEMP_SUFFIX}")


def temp_file_writer(tmp: Path) -> int | None:
    """The pid in a `<name>.<pid>.tmp` file name, None for any other name."""
    parts = tmp.name.rsplit(".", 2)
    if len(parts) != 3 or "." + parts[2] != TEMP_SUFFIX or not parts[1].isdigit():
        return None
    return int(parts[1])


def atomic_write_bytes(path: str | Path, data: bytes, make_parents: bool = False) -> None:
    """Write `data` to `path` via a temp file + fsync + os.replace.

    On any error the temp file is removed and `path` keeps its previous content. A missing
    parent folder is an error unless `make_parents` (a typo in a user's output path should not
    silently create folders).
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # a failed write leaves no half-written temp file
            tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str, make_parents: bool = False) -> None:
    """`atomic_write_bytes` of UTF-8 text (newlines written as given)."""
    atomic_write_bytes(path, text.encode("utf-8"), make_parents)
