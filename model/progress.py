"""A tiny text progress bar with rate and ETA for long command-line runs (torch-free, no deps).

Writes one carriage-return-updated line to a stream (stderr by default), at most every
`interval` seconds, so stdout stays clean for results. Disabled bars cost one comparison a call.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar", "format_duration"]


def format_duration(seconds: float) -> str:
    """`1:02:03`, `2:03` or `5s`."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    if minutes:
        return f"{minutes}:{secs:02d}"
    return f"{secs}s"


class ProgressBar:
    """`label [#####.....] 512/1000 51% 830/s ETA 1s`; use as a context manager or call close().

    `enabled=None` shows the bar only when the stream is a terminal.
    """

    def __init__(
        self,
        total: int | None,
        label: str = "",
        unit: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.2,
        width: int = 30,
    ) -> None:
        self.total = total
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = self.stream.isatty()
        self.enabled = enabled
        self.interval = interval
        self.width = width
        self.count = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def update(self, n: int = 1) -> None:
        """Advance by `n`; redraws at most every `interval` seconds."""
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw >= self.interval:
            self._last_draw = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The bar's current text (without the carriage return)."""
        now = time.monotonic() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = self.count / elapsed
        parts = [self.label] if self.label else []
        if self.total:
            frac = min(self.count / self.total, 1.0)
            filled = int(frac * self.width)
            parts.append("[" + "#" * filled + "." * (self.width - filled) + "]")
            parts.append(f"{self.count}/{self.total} {frac:4.0%}")
        else:
            parts.append(f"{self.count}")
        parts.append(f"{rate:.1f}{self.unit}/s" if rate < 100 else f"{rate:.0f}{self.unit}/s")
        if self.total and rate > 0 and self.count < self.total:
            parts.append(f"ETA {format_duration((self.total - self.count) / rate)}")
        else:
            parts.append(f"in {format_duration(elapsed)}")
        return " ".join(parts)

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now) + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
