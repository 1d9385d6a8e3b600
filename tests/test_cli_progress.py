"""Progress output: a redrawn bar on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import io

from aggregator.cli.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    with Progress("discover", 239, stream=out) as progress:
        for _ in range(239):
            progress.advance()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert 9 <= len(lines) <= 11  # about one line per tenth of the work
    assert lines[0] == "discover: 23/239 (9%)"
    assert lines[-1] == "discover: 239/239 (100%)"


def test_a_bar_redrawn_in_place_on_a_terminal() -> None:
    out = Terminal()
    with Progress("discover", 4, stream=out) as progress:
        progress.advance(note="Kedungbenda")
        progress.advance(3)
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # one line, redrawn
    assert text.startswith("\rdiscover:   0%") and text.count("\r") >= 2
    final = text.rsplit("\r", 1)[1]
    assert final.startswith("discover: 100%") and "4/4" in final and "Kedungbenda" in final


def test_nothing_to_do_is_still_reported() -> None:
    out = io.StringIO()
    with Progress("discover", 0, stream=out):
        pass
    assert out.getvalue() == "discover: 0/0 (100%)\n"
