"""Findings of a security review, each tried as an attacker would: markup in every field a
village site writes, a forged Host header, unknown hosts, forwarded addresses from anyone,
numbers that are no numbers in the thresholds form, an account locked by a stranger, the
throttle's memory bound, the Server header, and store files readable by others."""

from __future__ import annotations

import asyncio
import json
import re
import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from aggregator.access import auth
from aggregator.access.auth import LoginThrottle, hash_password
from aggregator.decide.thresholds import parse_form
from aggregator.errors import ConfigError
from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.settings import Settings, parse_config
from aggregator.store import Store
from aggregator.web import create_app
from aggregator.web.edge import server_options
from tests.conftest import LiveServer, RawServer, response

KEC = "33.03.01"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '<b onmouseover="alert(1)">x</b>'


def _config(settings: str = "", villages: str = "") -> str:
    return (
        'kabupaten: {code: "33.03", name: Purbalingga}\n'
        f"settings: {{{settings}}}\n"
        f'kecamatan:\n  - {{code: "{KEC}", name: Kemangkon, villages: [{villages}]}}\n'
    )


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


Serve = Callable[..., tuple[str, Store]]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Starts the dashboard on loopback with the given `settings:` text (uvicorn leaves the
    forwarded headers alone, as `serve` runs it)."""
    opened: list[tuple[LiveServer, Store]] = []

    def start(settings: str = "") -> tuple[str, Store]:
        config = parse_config(_config(settings))
        store = Store(f"sqlite:///{tmp_path}/s{len(opened)}.db", config.settings)
        store.migrate()
        store.sync_config(config, datetime.now(UTC))
        store.add_user(
            "admin", hash_password("rahasia-dinkominfo"), "dinkominfo", None, datetime.now(UTC)
        )
        app = create_app(config.settings, store=store, run_scheduler=False, secret_key="k" * 40)
        server = LiveServer(app, **server_options(config.settings))
        server.__enter__()
        opened.append((server, store))
        return server.url, store

    yield start
    for server, store in opened:
        server.__exit__(None, None, None)
        store.close()


def _login(c: httpx.Client, username: str, password: str) -> httpx.Response:
    token = CSRF.search(c.get("/masuk").text)
    assert token is not None
    return c.post("/masuk", data={"username": username, "password": password, "csrf": token[1]})


# --- 1. markup from village sites -----------------------------------------------------------


def _rss() -> bytes:
    return (
        b"<rss version='2.0'><channel><title>Desa</title><item>"
        b"<title>&lt;script&gt;alert(1)&lt;/script&gt;Musdes &lt;b&gt;2026&lt;/b&gt;</title>"
        b"<link>https://desa.example/artikel/1</link><guid>https://desa.example/artikel/1</guid>"
        b"<pubDate>Tue, 10 Nov 2026 08:00:00 +0700</pubDate>"
        b"<category>&lt;b onmouseover=alert(1)&gt;Pemerintahan&lt;/b&gt;</category>"
        b"<description>&lt;img src=x onerror=alert(1)&gt;Rapat &lt;i&gt;desa&lt;/i&gt;"
        b"</description>"
        b"</item></channel></rss>"
    )


def _json_feed() -> bytes:
    item = {
        "id": "1",
        "url": "https://desa.example/artikel/2",
        "title": f"Posyandu {HOSTILE}",
        "summary": f"Balita {HOSTILE}",
        "content_text": f"Isi {HOSTILE}",
        "tags": ["<i onclick='x'>Kesehatan</i>"],
        "date_published": "2026-11-10T08:00:00+07:00",
    }
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Desa", "items": [item]}
    ).encode()


def _atom() -> bytes:
    return (
        b"<feed xmlns='http://www.w3.org/2005/Atom'><title>Desa</title>"
        b"<generator version='&lt;b onclick=x&gt;6.6.2&lt;/b&gt;'>WordPress</generator>"
        b"<entry><title type='html'>Kerja bakti &lt;u&gt;RT 3&lt;/u&gt;</title>"
        b"<link href='https://desa.example/artikel/3'/><id>urn:x:3</id>"
        b"<updated>2026-11-10T08:00:00+07:00</updated>"
        b"<category term='&lt;script&gt;x&lt;/script&gt;Umum'/>"
        b"<summary type='html'>&lt;p onclick=x&gt;Warga&lt;/p&gt;</summary></entry></feed>"
    )


def test_markup_in_every_field_a_site_writes_is_reduced_to_text(tmp_path: Path) -> None:
    feeds = {
        "/rss": (_rss(), "application/rss+xml"),
        "/json": (_json_feed(), "application/feed+json"),
        "/atom": (_atom(), "application/atom+xml"),
    }

    async def site(
        method: str, path: str, headers: dict[str, str], w: asyncio.StreamWriter
    ) -> None:
        body, kind = feeds.get(path, (b"", "text/plain"))
        w.write(response(200 if body else 404, body, {"content-type": kind}))

    async def main() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with RawServer(site) as srv:
            villages = ", ".join(
                f'{{code: "{KEC}.200{i}", name: D{i}, url: "{srv.url}{path}", platform: feed}}'
                for i, path in enumerate(feeds, start=1)
            )
            config = parse_config(
                _config("allow_private_addresses: true, integrity_watch: false", villages)
            )
            store = Store(f"sqlite:///{tmp_path}/news.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            async with Fetcher(config.settings) as fetcher:
                poller = Poller(store, fetcher, config.settings)
                for village in store.due_villages(datetime.now(UTC), all_villages=True):
                    await poller.poll_and_record(village)
            rows = store.news(limit=10)
            versions = {v["code"]: v["platform_version"] for v in store.list_villages()}
            store.close()
            return rows, versions

    rows, versions = asyncio.run(main())
    assert versions[f"{KEC}.2003"] == "6.6.2"  # the Atom generator's version attribute
    by_title = {str(r["title"]): r for r in rows}
    assert set(by_title) == {"Musdes 2026", "Posyandu x", "Kerja bakti RT 3"}
    assert by_title["Kerja bakti RT 3"]["category"] == "Umum"
    assert by_title["Kerja bakti RT 3"]["summary"] == "Warga"
    assert by_title["Musdes 2026"]["category"] == "Pemerintahan"
    assert by_title["Musdes 2026"]["summary"] == "Rapat desa"
    assert by_title["Posyandu x"]["category"] == "Kesehatan"
    assert by_title["Posyandu x"]["summary"] == "Balita x"
    for row in rows:
        for field in ("title", "summary", "category", "url", "thumbnail"):
            value = str(row.get(field) or "")
            assert "<" not in value and ">" not in value, (field, value)


# --- 3. the Host header ----------------------------------------------------------------------


def test_base_url_replaces_the_host_header_in_every_absolute_url(
    serve: Serve,
) -> None:
    url, _ = serve('base_url: "https://sipande.purbalinggakab.go.id"')
    with httpx.Client(base_url=url, headers={"host": "jahat.example"}) as c:
        feed = c.get(f"/kecamatan/{KEC}/feed.atom")
        assert feed.status_code == 200 and b"jahat" not in feed.content
        root = ET.fromstring(feed.content)
        feed_id = root.findtext(f"{ATOM}id")
        assert feed_id == f"https://sipande.purbalinggakab.go.id/kecamatan/{KEC}/feed.atom"
        links = {link.get("rel"): link.get("href") for link in root.iter(f"{ATOM}link")}
        assert links["self"] == feed_id
        assert links["alternate"] == f"https://sipande.purbalinggakab.go.id/kecamatan/{KEC}"
        moved = c.get(f"/kecamatan/{KEC}/")  # the trailing-slash redirect
        assert moved.status_code in (301, 307, 308)
        assert moved.headers["location"] == f"https://sipande.purbalinggakab.go.id/kecamatan/{KEC}"
        # Session cookies are Secure by default once the dashboard is on https.
        page = c.get("/masuk")
        assert "secure" in page.headers["set-cookie"].lower()


def test_allowed_hosts_refuse_unknown_hosts(serve: Serve) -> None:
    url, _ = serve("allowed_hosts: [sipande.purbalinggakab.go.id]")
    with httpx.Client(base_url=url) as c:
        assert c.get("/", headers={"host": "jahat.example"}).status_code == 400
        assert c.get("/api/villages", headers={"host": "127.0.0.1"}).status_code == 400
        assert c.get("/", headers={"host": "sipande.purbalinggakab.go.id"}).status_code == 200


def test_the_server_header_names_no_software(serve: Serve) -> None:
    url, _ = serve()
    with httpx.Client(base_url=url) as c:
        assert "server" not in c.get("/").headers


def test_new_settings_are_checked_and_https_means_secure_cookies() -> None:
    https = parse_config(_config('base_url: "https://sipande.example.go.id/"')).settings
    assert https.secure_cookies is True
    assert https.alerts.dashboard_url == "https://sipande.example.go.id/"  # links in e-mails
    explicit = parse_config(
        _config('base_url: "https://s.example.go.id", secure_cookies: false')
    ).settings
    assert explicit.secure_cookies is False
    assert (
        parse_config(_config('base_url: "http://10.0.0.5:8000"')).settings.secure_cookies is False
    )
    assert Settings().trusted_proxies == ("127.0.0.1",) and Settings().allowed_hosts == ()
    for bad in ('base_url: "https://s.example/x"', "trusted_proxies: [nginx]",
                'allowed_hosts: ["https://s.example"]'):  # fmt: skip
        with pytest.raises(ConfigError):
            parse_config(_config(bad))


# --- X-Forwarded-For only from the configured proxy -----------------------------------------


def _spray(url: str, addresses: list[str]) -> list[int]:
    """Wrong passwords for one name, each from its own forwarded address; the statuses."""
    codes = []
    for address in addresses:
        with httpx.Client(base_url=url, headers={"x-forwarded-for": address}) as c:
            codes.append(_login(c, "admin", "salah-sekali").status_code)
    return codes


def test_forwarded_for_is_believed_only_from_the_configured_proxy(
    serve: Serve,
) -> None:
    addresses = [f"10.1.0.{i}" for i in range(7)]
    trusted, _ = serve()  # 127.0.0.1, where nginx connects from, is the default proxy
    assert _spray(trusted, addresses) == [400] * 7  # seven addresses, none locked
    untrusted, _ = serve('trusted_proxies: ["10.9.9.9"]')
    # Loopback is no proxy now: the header is ignored and every try is one address's.
    assert _spray(untrusted, addresses) == [400] * 5 + [429] * 2


# --- 4. the thresholds form ------------------------------------------------------------------


def test_threshold_form_refuses_numbers_that_are_not_finite(
    serve: Serve,
) -> None:
    form = {
        "active_days": "14", "low_activity_days": "60", "unreachable_after": "3",
        "scoring.weight_freshness": "40", "scoring.weight_cadence": "25",
        "scoring.weight_availability": "20", "scoring.weight_services": "15",
        "scoring.weight_engagement": "0",
    }  # fmt: skip
    for bad in ("inf", "nan", "-inf", "1e400", "Infinity"):
        for key in ("active_days", "scoring.weight_cadence"):
            values, problems = parse_form({**form, key: bad})
            assert key not in values and any("isi dengan angka" in p for p in problems), bad
    url, store = serve()
    with httpx.Client(base_url=url, headers={"x-forwarded-for": "10.2.0.1"}) as c:
        assert _login(c, "admin", "rahasia-dinkominfo").status_code == 303
        for bad in ("inf", "nan", "-inf", "1e400"):
            token = CSRF.search(c.get("/admin").text)
            assert token is not None
            resp = c.post("/admin/ambang", data={**form, "active_days": bad, "csrf": token[1]})
            assert resp.status_code == 400, (bad, resp.status_code)
            assert "Aktif: ada berita dalam (hari): isi dengan angka" in resp.text
    assert store.threshold_overrides() == {}  # nothing saved


# --- 5. the login throttle -------------------------------------------------------------------


def test_an_attacker_cannot_lock_out_the_owner(serve: Serve) -> None:
    url, _ = serve()
    owner = httpx.Client(base_url=url, headers={"x-forwarded-for": "10.3.0.1"})
    assert _login(owner, "admin", "rahasia-dinkominfo").status_code == 303  # the usual address
    owner.close()
    # An attacker guesses from many addresses, far past every limit...
    codes = _spray(url, [f"172.16.{i // 6}.{i}" for i in range(60)])
    assert codes.count(429) > 30  # ...and is slowed down and locked out
    # ...but the owner, from the usual address, logs in at once.
    with httpx.Client(base_url=url, headers={"x-forwarded-for": "10.3.0.1"}) as owner:
        assert _login(owner, "admin", "rahasia-dinkominfo").status_code == 303


def test_the_global_back_off_slows_a_guesser_spread_over_addresses() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0], global_limit=10, backoff=30)
    throttle.succeeded("ani", "10.0.0.1")  # her usual address
    for i in range(10):
        address = f"10.9.{i}.1"
        assert throttle.retry_after("ani", address) == 0
        throttle.failed("ani", address)
    # Ten failures from ten addresses: a new address waits, longer after each failure.
    assert throttle.retry_after("ani", "10.9.99.1") == pytest.approx(30)
    now[0] = 31
    throttle.failed("ani", "10.9.99.1")
    assert throttle.retry_after("ani", "10.9.98.1") == pytest.approx(60)
    assert throttle.retry_after("ani", "10.0.0.1") == 0  # never the owner's usual address
    assert throttle.retry_after("budi", "10.9.98.1") == 0  # nor another name
    # An IPv6 guesser gains nothing by using many addresses of one /64.
    for i in range(5):
        throttle.failed("budi", f"2001:db8::{i + 1}")
    assert throttle.retry_after("budi", "2001:db8::ffff") > 0


def test_the_throttle_is_bounded_without_forgetting_a_lock() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0], max_keys=60)
    throttle.succeeded("owner", "10.0.0.1")
    for _ in range(5):
        throttle.failed("ani", "10.6.6.6")
    assert throttle.retry_after("ani", "10.6.6.6") > 800
    for i in range(200):  # a spray of names from many addresses fills the table
        throttle.failed(f"name{i}", f"10.7.{i}.1")
    assert len(throttle._failures) <= 60
    assert throttle.retry_after("ani", "10.6.6.6") > 800  # the lock held
    assert throttle.retry_after("ani", "10.8.0.1") > 0  # an uncounted pair must wait...
    assert throttle.retry_after("owner", "10.0.0.1") == 0  # ...but not a known owner
    now[0] = 3601
    assert throttle.retry_after("ani", "10.8.0.1") == 0  # all forgotten in time


# --- files ------------------------------------------------------------------------------------


def test_the_sqlite_store_and_its_backups_are_private(tmp_path: Path) -> None:
    from aggregator.cli import main

    db = tmp_path / "data" / "sipande.db"
    store = Store(f"sqlite:///{db}", Settings())
    store.migrate()
    store.close()
    for path in tmp_path.glob("data/sipande.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    backup = tmp_path / "backup.db"
    assert main(["backup", str(backup), "--database", f"sqlite:///{db}"]) == 0
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
