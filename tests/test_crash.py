"""Crash safety: SIGKILL in the middle of a pass, start again, and nothing is lost or doubled."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import FleetThread

ROOT = Path(__file__).resolve().parents[1]


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def test_sigkill_mid_pass_then_restart_leaves_a_consistent_store(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    config = tmp_path / "fleet.yaml"
    env = {**os.environ, "SIPANDE_DATABASE_URL": ""}
    cmd = [sys.executable, "-m", "aggregator", "poll", "--config", str(config), "--once",
           "--database", f"sqlite:///{db}"]  # fmt: skip
    with FleetThread(n=12, seed=3) as ft:
        fleet = ft.fleet
        healthy = [v.code for v in fleet.villages if v.behaviour == "active"]
        for code in healthy[:2]:
            fleet.set_behaviour(code, "hang")  # keeps the pass open long enough to kill it
        config.write_text(fleet.config_yaml(settings={"request_timeout": "8s"}))
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if db.exists():
                try:
                    news = _rows(db, "SELECT count(*) FROM newsitem")[0][0]
                except sqlite3.OperationalError:
                    continue  # schema not created yet
                if isinstance(news, int) and news > 0:
                    break
        assert proc.poll() is None, "the pass ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        before = set(_rows(db, "SELECT village_code, url, title FROM newsitem"))
        checks_before = _rows(db, 'SELECT count(*) FROM "check"')[0][0]
        assert before and isinstance(checks_before, int)
        for code in healthy[:2]:
            fleet.set_behaviour(code, "active")
        again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
        assert again.returncode == 0, again.stderr
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    after = set(_rows(db, "SELECT village_code, url, title FROM newsitem"))
    assert before <= after  # nothing committed before the kill was lost
    dupes = _rows(
        db, "SELECT village_code, url, count(*) FROM newsitem GROUP BY 1, 2 HAVING count(*) > 1"
    )
    assert dupes == []
    # The schedule resumed: every village with a site has a check from the second run.
    polled = {r[0] for r in _rows(db, 'SELECT DISTINCT village_code FROM "check"')}
    with_site = {r[0] for r in _rows(db, "SELECT code FROM village WHERE url != ''")}
    assert polled == with_site
    assert _rows(db, 'SELECT count(*) FROM "check"')[0][0] > checks_before  # type: ignore[operator]
