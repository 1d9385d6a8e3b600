"""Shared fixtures: a real SQLite file per test, and a tiny loopback HTTP server for fetch edges."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.settings import DistrictConfig, Settings, parse_config
from aggregator.store import Store


def one_feed_village(
    tmp_path: Path, feed_url: str, *, watch: bool = False
) -> tuple[DistrictConfig, Store]:
    """A migrated SQLite store holding one village (33.03.01.2001) read as a plain feed at
    `feed_url`, loopback allowed, with the integrity watch on or off (a village never
    scanned is scanned by its next poll: no first_read_spread)."""
    watch_off = "" if watch else ", integrity_watch: false"
    config = parse_config(
        'kabupaten: {code: "33.03", name: P}\n'
        f"settings: {{allow_private_addresses: true, first_read_spread: 0{watch_off}}}\n"
        "kecamatan:\n"
        '  - {code: "33.03.01", name: K, villages: [{code: "33.03.01.2001", name: D, '
        f'url: "{feed_url}", platform: feed}}]}}\n'
    )
    store = Store(f"sqlite:///{tmp_path}/poll.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    return config, store


# Handler: gets (method, path, headers) and the writer; writes a raw HTTP response.
Handler = Callable[[str, str, dict[str, str], asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/sipande.db"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url, Settings(allow_private_addresses=True))
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("SIPANDE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("SIPANDE_TEST_POSTGRES_URL not set (.ci/run sets it and starts PostgreSQL)")
    return url


class RawServer:
    """An asyncio HTTP/1.1 server on 127.0.0.1 whose handler writes raw bytes."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.server: asyncio.Server | None = None
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.bodies: list[bytes] = []  # request bodies, in the order of `requests`

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self._tasks):  # Python 3.11 has no Server.close_clients()
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                self.requests.append((method, path, headers))
                length = int(headers.get("content-length", "0") or 0)
                self.bodies.append(await reader.readexactly(length) if length else b"")
                await self.handler(method, path, headers, writer)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    reason = {200: "OK", 301: "Moved", 302: "Found", 304: "Not Modified", 404: "Not Found",
              500: "Internal Server Error"}.get(status, "X")  # fmt: skip
    head = [f"HTTP/1.1 {status} {reason}"]
    all_headers = {"content-length": str(len(body)), **(headers or {})}
    head += [f"{k}: {v}" for k, v in all_headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class LiveServer:
    """Serve an ASGI app with uvicorn on a free loopback port in a background thread."""

    def __init__(self, app: object, **options: object) -> None:
        import socket
        import threading

        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", **options)  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        import time

        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


class FleetThread:
    """A simulated fleet running on its own event loop in a thread, for tests that drive
    `sipande` in a subprocess."""

    def __init__(self, n: int = 12, seed: int = 3) -> None:
        import threading

        from fleet import Fleet

        self.fleet = Fleet.from_district(n, seed=seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FleetThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fleet.start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fleet.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def wait_for_healthz(base: str, process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Wait until a `sipande serve` subprocess answers /healthz at `base`; fails if the
    process exits first or the time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.2)
