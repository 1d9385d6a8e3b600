"""Progress of a long command: a redrawn bar on a terminal, a few plain lines in a log."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

BAR_WIDTH = 30
LOG_EVERY_SECONDS = 10.0


class Progress:
    """Count `total` steps of `label`. On a TTY one line is redrawn in place; otherwise (a
    systemd journal, a file) a line is written every tenth of the work or every 10 s, so a log
    shows the command is alive without one line per step."""

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(0, total)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._step = max(1, self.total // 10)
        self._next_line = self._step
        self._last_line = time.monotonic()
        self._closed = False

    def __enter__(self) -> Progress:
        if self.tty:
            self._draw("")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def advance(self, steps: int = 1, note: str = "") -> None:
        self.done = min(self.total, self.done + steps) if self.total else self.done + steps
        if self.tty:
            self._draw(note)
            return
        now = time.monotonic()
        if self.done >= self._next_line or now - self._last_line >= LOG_EVERY_SECONDS:
            while self._next_line <= self.done:
                self._next_line += self._step
            self._last_line = now
            if self.done < self.total:  # the last line is written by close()
                self._line()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.tty:
            self._draw("")
            self.stream.write("\n")
        else:
            self._line()
        self.stream.flush()

    def _percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total

    def _line(self) -> None:
        self.stream.write(f"{self.label}: {self.done}/{self.total} ({self._percent()}%)\n")
        self.stream.flush()

    def _draw(self, note: str) -> None:
        filled = BAR_WIDTH if not self.total else BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        text = f"\r{self.label} [{bar}] {self.done}/{self.total} {self._percent():3d}%"
        if note:
            text += f" {note[:40]}"
        self.stream.write(text + "\x1b[K")  # erase what a longer previous note left behind
        self.stream.flush()
