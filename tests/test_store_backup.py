"""`sipande backup`: a consistent SQLite copy taken while polls are being written."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlmodel import Session

from aggregator.cli import main
from aggregator.models import NewsItem
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.types import Decision, PollOutcome

CONFIG = """\
kabupaten: {code: "33.03", name: Purbalingga}
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {code: "33.03.01.2001", name: Kedungbenda, url: "http://kedungbenda.desa.id/"}
      - {code: "33.03.01.2002", name: Bokol, url: "http://bokol.desa.id/"}
      - {code: "33.03.01.2003", name: Pelumutan, url: "http://pelumutan.desa.id/"}
"""
CODES = ("33.03.01.2001", "33.03.01.2002", "33.03.01.2003")


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_backup_is_consistent_while_polls_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    store = Store(url)
    store.migrate()
    now = datetime.now(UTC)
    store.sync_config(parse_config(CONFIG), now)
    with Session(store.engine) as s:  # a few MB of news, so the copy is not instantaneous
        s.connection().execute(
            insert(NewsItem),
            [
                {"village_code": CODES[i % 3], "dedup_key": f"url:{i}", "url": f"http://x/{i}",
                 "title": f"Berita {i}", "summary": "Kegiatan desa. " * 40, "first_seen": now}
                for i in range(4000)
            ],
        )  # fmt: skip
        s.commit()

    # The poller's own write path: each failed poll adds a Check row and sets the village's
    # failure counter in one transaction, so in any consistent snapshot the counter of a
    # village equals the number of its Check rows.
    stop = threading.Event()
    written = [0]

    def poll_writer() -> None:
        failures = dict.fromkeys(CODES, 0)
        while not stop.is_set():
            code = CODES[written[0] % 3]
            failures[code] += 1
            started = datetime.now(UTC)
            store.record_poll(
                PollOutcome(code, started, 5, ok=False, phase="http", message="HTTP 500"),
                Decision(started + timedelta(minutes=5), failures[code], started),
            )
            written[0] += 1

    writer = threading.Thread(target=poll_writer)
    writer.start()
    try:
        _wait_for(lambda: written[0] >= 30, "polls before the backup")
        out = tmp_path / "backups" / "copy.db"
        assert main(["backup", "--database", url, str(out)]) == 0
        after_backup = written[0]
        _wait_for(lambda: written[0] >= after_backup + 10, "polls after the backup")
    finally:
        stop.set()
        writer.join(timeout=30)
        store.close()
    assert "integrity ok" in capsys.readouterr().out

    copy = sqlite3.connect(out)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
        checks = dict(
            copy.execute('SELECT village_code, count(*) FROM "check" GROUP BY village_code')
        )
        counters = dict(copy.execute("SELECT code, consecutive_failures FROM village"))
        (news,) = copy.execute("SELECT count(*) FROM newsitem").fetchone()
    finally:
        copy.close()
    assert news == 4000
    assert 30 <= sum(checks.values()) <= written[0]
    assert sum(checks.values()) < written[0]  # polling went on after the snapshot
    assert counters == {code: checks.get(code, 0) for code in CODES}
    assert not list(out.parent.glob(".copy.db.*"))  # the temporary file was renamed


def test_postgresql_gets_the_pg_dump_command_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://sipande:rahasia@db.internal:5433/sipande"
    assert main(["backup", "--database", url, str(tmp_path / "x.dump")]) == 2
    out, err = capsys.readouterr()
    assert "pg_dump" in err
    assert "pg_dump --format=custom" in out and "--host=db.internal" in out
    assert "--port=5433" in out and "--username=sipande" in out
    assert "rahasia" not in out + err
    assert not (tmp_path / "x.dump").exists()


def test_a_missing_database_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.db"
    assert main(["backup", "--database", f"sqlite:///{missing}", str(tmp_path / "b.db")]) == 1
    assert "no such database" in capsys.readouterr().err
    assert not missing.exists() and not (tmp_path / "b.db").exists()
