"""Politeness and our own outages: robots.txt, Retry-After, and 'poller offline'."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.settings import parse_config
from aggregator.store import Store
from connectors.base import retry_after_seconds
from tests.conftest import RawServer, response

FEED = b"""<rss version="2.0"><channel><title>Desa Uji</title><link>http://x/</link>
<item><title>Kerja bakti</title><link>http://x/a/1</link><guid>http://x/a/1</guid>
<pubDate>Fri, 27 Nov 2026 08:00:00 +0700</pubDate></item></channel></rss>"""


def _config(urls: list[str]) -> str:
    lines = [
        'kabupaten: {code: "33.03", name: Purbalingga}',
        "settings: {allow_private_addresses: true, request_timeout: 3s, connect_timeout: 2s}",
        "kecamatan:",
        '  - code: "33.03.01"',
        "    name: Kemangkon",
        "    villages:",
    ]
    for i, url in enumerate(urls):
        lines.append(f'      - {{code: "33.03.01.{2001 + i}", name: Desa{i}, url: "{url}"}}')
    return "\n".join(lines) + "\n"


def _store(tmp: Path, urls: list[str]) -> Store:
    config = parse_config(_config(urls))
    store = Store(f"sqlite:///{tmp}/s.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    return store


async def _pass(store: Store, passes: int = 1) -> None:
    async with Fetcher(store.settings) as fetcher:
        poller = Poller(store, fetcher, store.settings)
        for _ in range(passes):
            await poller.run_pass(store.due_villages(datetime.now(UTC), all_villages=True))


def test_robots_txt_disallow_is_respected_and_recorded(tmp_path: Path) -> None:
    async def site(method, path, headers, w):  # type: ignore[no-untyped-def]
        if path == "/robots.txt":
            w.write(response(200, b"User-agent: Sipande\nDisallow: /\n\nUser-agent: *\nAllow: /\n"))
        else:
            w.write(response(200, FEED, {"content-type": "text/xml"}))

    async def main() -> None:
        async with RawServer(site) as srv:
            store = _store(tmp_path, [srv.url + "/"])
            await _pass(store, passes=2)
            v = store.list_villages()[0]
            assert v["last_check_ok"] is False and v["last_error_phase"] == "robots"
            assert [p for _, p, _ in srv.requests] == ["/robots.txt"]  # cached, nothing else
            store.close()

    asyncio.run(main())


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    async def busy(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(response(429, b"slow down", {"retry-after": "7200"}))

    async def main() -> None:
        async with RawServer(busy) as srv:
            store = _store(tmp_path, [srv.url + "/"])
            before = datetime.now(UTC)
            await _pass(store)
            v = store.village_detail("33.03.01.2001")
            assert v is not None and v["recent_checks"][0]["status_code"] == 429
            assert "Retry-After 7200s" in v["last_error_message"]
            next_at = datetime.fromisoformat(v["next_check_at"])
            assert next_at - before >= timedelta(seconds=7200)  # not the 5-minute first backoff
            store.close()

    asyncio.run(main())
    assert retry_after_seconds("120") == 120
    now = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert retry_after_seconds("Sat, 28 Nov 2026 01:10:00 GMT", now) == 600
    assert retry_after_seconds("soon") is None


def test_everyone_failing_at_once_is_our_outage_not_theirs(tmp_path: Path) -> None:
    urls = [f"http://desa{i}.tidak-ada.invalid/" for i in range(4)]
    store = _store(tmp_path, urls)
    asyncio.run(_pass(store))
    for v in store.list_villages():
        detail = store.village_detail(v["code"])
        assert detail is not None
        check = detail["recent_checks"][0]
        assert check["phase"] == "offline" and "poller offline (dns" in check["message"]
        assert detail["consecutive_failures"] == 0 and detail["last_checked_at"] is None
    store.close()


def test_one_dead_domain_among_live_sites_is_that_villages_failure(tmp_path: Path) -> None:
    async def site(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(response(200, FEED, {"content-type": "text/xml"}))

    async def main() -> None:
        async with RawServer(site) as srv:
            dead = [f"http://mati{i}.tidak-ada.invalid/" for i in range(3)]
            store = _store(tmp_path, [srv.url + "/", *dead])
            await _pass(store)
            phases = {v["code"]: v["last_error_phase"] for v in store.list_villages()}
            assert phases["33.03.01.2001"] is None
            assert [phases[f"33.03.01.{2002 + i}"] for i in range(3)] == ["dns"] * 3
            store.close()

    asyncio.run(main())
