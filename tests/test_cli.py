"""The `sipande` command as a user runs it: subprocesses against the fleet on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import FleetThread, wait_for_healthz

ROOT = Path(__file__).resolve().parents[1]
SIPANDE = [sys.executable, "-m", "aggregator"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIPANDE_DATABASE_URL": ""}
    return subprocess.run(
        [*SIPANDE, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_check_config_on_the_shipped_file() -> None:
    result = run("check-config")
    assert result.returncode == 0, result.stderr
    assert "18 kecamatan, 239 villages" in result.stdout


def test_bad_config_exits_2_naming_the_line_and_leaves_the_database_alone(tmp_path: Path) -> None:
    with FleetThread() as ft:
        good = tmp_path / "good.yaml"
        good.write_text(ft.fleet.config_yaml(settings={"request_timeout": "2s"}))
        db = tmp_path / "s.db"
        assert (
            run("poll", "--config", str(good), "--once", "--database", f"sqlite:///{db}").returncode
            == 0
        )
    before = db.read_bytes()
    lines = good.read_text().splitlines()
    village_lines = [i for i, line in enumerate(lines) if "- {code:" in line]
    first_code = lines[village_lines[0]].split('"')[1]
    # A duplicate village code on another line, and a code outside its kecamatan.
    lines[village_lines[1]] = lines[village_lines[1]].replace(
        lines[village_lines[1]].split('"')[1], first_code
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("\n".join(lines) + "\n")
    result = run("poll", "--config", str(bad), "--once", "--database", f"sqlite:///{db}")
    assert result.returncode == 2
    assert f"{bad}:{village_lines[1] + 1}:" in result.stderr
    assert f"duplicate code {first_code}" in result.stderr
    assert db.read_bytes() == before
    missing = tmp_path / "never.db"
    assert run("serve", "--config", str(bad), "--database", f"sqlite:///{missing}").returncode == 2
    assert not missing.exists()


def test_poll_once_then_serve_answers_the_api(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    with FleetThread() as ft:
        config = tmp_path / "fleet.yaml"
        config.write_text(ft.fleet.config_yaml(settings={"request_timeout": "2s"}))
        first = run("poll", "--config", str(config), "--once", "--database", db)
        assert first.returncode == 0, first.stderr
        assert "Polled 11 villages" in first.stdout and "3 failed" in first.stdout
        second = run("poll", "--config", str(config), "--once", "--database", db)
        assert "0 new items" in second.stdout
        codes = [v.code for v in ft.fleet.villages]
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*SIPANDE, "serve", "--config", str(config), "--no-scheduler", "--port", str(port),
         "--database", db],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_healthz(base, server)
        villages = httpx.get(base + "/api/villages").json()
        assert sorted(v["code"] for v in villages) == sorted(codes)
        # Scored by poll --once itself: no scheduler ran anywhere.
        assert [v["code"] for v in villages if v["score"] is None] == []
        detail = httpx.get(f"{base}/api/villages/{codes[0]}").json()
        assert {"recent_checks", "metrics", "services", "findings"} <= set(detail)
        assert len(detail["recent_checks"]) == 2
        news = httpx.get(base + "/api/news?limit=5").json()
        assert len(news) == 5 and {"village_code", "title", "url", "published_at"} <= set(news[0])
        assert httpx.get(base + "/api/findings?status=open").json() == []
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
