"""A status bar whose messages are elided to the room left of the model label.

QStatusBar draws a long message straight on, under the permanent widgets on the right (the
"model: ..." label) or off the edge; here a message too long for its room ends in "…" and the
whole text is in the tooltip.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar, QWidget

_MARGIN = 24  # px kept free between the message and the first permanent widget


class ElidingStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._permanent: list[QWidget] = []
        self.full_message = ""
        self._expires: float | None = None  # monotonic time the message goes, None = stays

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802
        self._permanent.append(widget)
        super().addPermanentWidget(widget, stretch)

    def message_room(self) -> int:
        """Pixels a message may use: the bar's width less the permanent widgets'."""
        used = sum(w.sizeHint().width() for w in self._permanent if not w.isHidden())
        return max(40, self.width() - used - _MARGIN)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt API)
        self.full_message = text
        self._expires = time.monotonic() + timeout / 1000 if timeout > 0 else None
        self._show_elided(text, timeout)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """A narrower window elides the message again, for the time it has left."""
        super().resizeEvent(event)
        if self.currentMessage() and self.full_message:
            left = 0 if self._expires is None else int(1000 * (self._expires - time.monotonic()))
            if self._expires is None or left > 0:
                self._show_elided(self.full_message, left)

    def _show_elided(self, text: str, timeout: int) -> None:
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                              self.message_room())
        self.setToolTip(text if shown != text else "")
        super().showMessage(shown, timeout)
