"""Distributed polling on a real PostgreSQL: three worker processes share one pass; a
worker killed mid-pass loses no village, and no village is polled twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import FleetThread

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _count(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def test_three_workers_one_killed_every_village_polled_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    env = {**os.environ, "SIPANDE_DATABASE_URL": ""}
    workers: list[subprocess.Popen[bytes]] = []
    logs = []
    with FleetThread(n=24, seed=5) as ft:
        config = tmp_path / "fleet.yaml"
        config.write_text(ft.fleet.config_yaml(settings={"request_timeout": "3s"}))
        with_site = {v.code for v in ft.fleet.villages if ft.fleet.url(v.code)}
        try:
            for i in range(3):
                log = (tmp_path / f"worker{i}.log").open("wb")
                logs.append(log)
                workers.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "aggregator",
                            "worker",
                            "--config",
                            str(config),
                            "--database",
                            pg_url,
                            "--concurrency",
                            "4",
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            deadline = time.monotonic() + 120  # a lost claim comes back when its lease ends
            killed = False
            polled: set[object] = set()
            while time.monotonic() < deadline:
                time.sleep(0.5)
                try:
                    polled = {r[0] for r in _count(pg_url, 'SELECT village_code FROM "check"')}
                except Exception:
                    continue  # schema not there yet
                if polled and not killed:
                    os.kill(workers[0].pid, signal.SIGKILL)  # mid-pass: jobs in flight
                    killed = True
                if polled >= with_site:
                    break
            assert killed
            missing = sorted(str(c) for c in with_site - polled)
            assert not missing, f"never polled: {missing}"
            time.sleep(3)  # let any duplicate poll show up
            dupes = _count(
                pg_url, 'SELECT village_code, count(*) FROM "check" GROUP BY 1 HAVING count(*) > 1'
            )
            assert dupes == []
            assert all(w.poll() is None for w in workers[1:])  # survivors still running
        finally:
            for w in workers:
                if w.poll() is None:
                    w.send_signal(signal.SIGTERM)
            for w in workers:
                try:
                    w.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    w.kill()
            for log in logs:
                log.close()
