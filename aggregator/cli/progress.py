"""Progress of a long command (discover, poll --once): a bar on a terminal (tqdm), a few
plain lines in a log."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Self, TextIO

from tqdm import tqdm

from aggregator.types import PollOutcome, VillageForPoll

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
        self._bar: tqdm[Any] | None = None

    def __enter__(self) -> Self:
        if self.tty:
            self._bar = tqdm(
                total=self.total,
                desc=self.label,
                file=self.stream,
                unit=" desa",
                dynamic_ncols=True,
            )
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
        if self._bar is not None:
            if note:
                self._bar.set_postfix_str(note[:40], refresh=False)
            self._bar.update(steps)
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
        if self._bar is not None:
            self._bar.close()
        else:
            self._line()
        self.stream.flush()

    def _percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total

    def _line(self) -> None:
        self.stream.write(f"{self.label}: {self.done}/{self.total} ({self._percent()}%)\n")
        self.stream.flush()


class PassProgress(Progress):
    """A poll pass (`poll --once`): one step per village polled, the failures so far noted."""

    def __init__(self, total: int, *, stream: TextIO | None = None) -> None:
        super().__init__("poll", total, stream=stream)
        self.failed = 0

    def polled(self, village: VillageForPoll, outcome: PollOutcome) -> None:
        if not outcome.ok:
            self.failed += 1
        self.advance(note=f"{self.failed} gagal" if self.failed else "")
