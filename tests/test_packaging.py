"""A normal install serves pages: the wheel carries the templates and static files.

The wheel is built from this checkout, installed (not editable) into a fresh venv, and that
venv's `sipande` polls a small fleet and serves the overview, a kecamatan page and a village
page from a directory that is not the checkout."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import FleetThread, wait_for_healthz

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_a_wheel_installed_without_editable_serves_the_pages(tmp_path: Path) -> None:
    source = tmp_path / "source"  # setuptools builds in place: keep build/ out of the checkout
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("aggregator", "connectors", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    _pip("wheel", "--no-deps", "-w", str(wheels), str(source))
    (wheel,) = wheels.glob("sipande-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    _pip("--python", str(python), "install", str(wheel))  # dependencies from pip's index
    sipande = str(venv / "bin" / "sipande")
    shown = subprocess.run(
        [str(python), "-c", "import aggregator, sys; print(aggregator.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert shown.stdout.startswith(str(venv)), shown.stdout  # not this checkout

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["SIPANDE_DATABASE_URL"] = ""
    db = f"sqlite:///{tmp_path}/s.db"
    with FleetThread(n=6, seed=3) as ft:
        config = tmp_path / "districts.yaml"
        config.write_text(ft.fleet.config_yaml(settings={"request_timeout": "2s"}))
        polled = subprocess.run(
            [sipande, "poll", "--once", "--config", str(config), "--database", db],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        )  # fmt: skip
        assert polled.returncode == 0, polled.stderr[-3000:]
        assert "Polled 6 villages" in polled.stdout
        village = next(v for v in ft.fleet.villages if ft.fleet.url(v.code))
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sipande, "serve", "--no-scheduler", "--config", str(config), "--database", db,
         "--port", str(port)],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_healthz(base, server)
        except httpx.TransportError:
            log.flush()
            raise AssertionError((tmp_path / "serve.log").read_text()[-3000:]) from None
        overview = httpx.get(base + "/")
        assert overview.status_code == 200 and "Purbalingga" in overview.text
        kec = httpx.get(f"{base}/kecamatan/{village.kecamatan_code}")
        assert kec.status_code == 200 and village.name in kec.text
        page = httpx.get(f"{base}/desa/{village.code}")
        assert page.status_code == 200 and village.name in page.text
        css = httpx.get(base + "/static/sipande.css")
        assert (
            css.status_code == 200
            and css.text == (ROOT / "templates/static/sipande.css").read_text()
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
