"""Every outbound request goes through the guarded fetcher and honours
`allow_private_addresses`: the poller, the integrity watch, the yardsticks (pages, TLS probe,
RDAP), discover, import-opendk, the alert webhook and Apprise alert targets (their host is
checked before Apprise connects). Each caller is pointed at a server on loopback with the
guard on (nothing may reach it) and, where cheap, with it off (it does)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.alerts import AlertEvent
from aggregator.alerts.send import send_alerts, send_one
from aggregator.cli import main
from aggregator.fetch.client import Fetcher, is_public_address
from aggregator.integrity.watch import scan_site
from aggregator.onboarding.discover import Prober
from aggregator.onboarding.opendk import OpenDKError, fetch_villages
from aggregator.onboarding.resolve import SystemResolver
from aggregator.poll.poller import Poller
from aggregator.settings import AlertSettings, Settings
from aggregator.store import Store
from aggregator.types import VillageForPoll
from aggregator.yardsticks import RdapClient, collect_yardsticks
from tests.conftest import RawServer, response

ROOT = Path(__file__).resolve().parents[1]
STRICT = Settings(allow_private_addresses=False, request_timeout=3, connect_timeout=2)
OPEN = Settings(allow_private_addresses=True, request_timeout=3, connect_timeout=2)
NOW = datetime(2026, 3, 1, tzinfo=UTC)


async def _ok(method: str, path: str, headers: dict[str, str], w: asyncio.StreamWriter) -> None:
    w.write(response(200, b"{}", {"content-type": "application/json"}))


def test_ipv6_forms_carrying_a_private_ipv4_are_judged_by_it() -> None:
    private = (
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (cloud metadata)
        "::127.0.0.1",  # IPv4-compatible
        "::10.1.2.3",
        "::ffff:0:127.0.0.1",  # IPv4-translated
        "::ffff:0:c0a8:101",  # translated 192.168.1.1
        "::ffff:10.0.0.1",  # IPv4-mapped
    )
    for address in private:
        assert not is_public_address(address), address
    for address in ("64:ff9b::808:808", "2002:808:808::1", "::ffff:0:8.8.8.8"):
        assert is_public_address(address), address


def test_poller_refuses_private_targets() -> None:
    async def run(settings: Settings, store: Store) -> tuple[str | None, int]:
        async with RawServer(_ok) as srv, Fetcher(settings) as fetcher:
            village = VillageForPoll(code="33.03.01.2001", url=srv.url + "/", platform="feed")
            outcome = await Poller(store, fetcher, settings).poll_village(village)
            return outcome.phase, len(srv.requests)

    store = Store("sqlite://", STRICT)
    store.migrate()
    assert asyncio.run(run(STRICT, store)) == ("blocked", 0)
    assert asyncio.run(run(OPEN, store))[1] > 0
    store.close()


def test_integrity_watch_refuses_private_targets() -> None:
    async def run(settings: Settings) -> int:
        async with RawServer(_ok) as srv, Fetcher(settings) as fetcher:
            await scan_site(fetcher, srv.url + "/", [])
            return len(srv.requests)

    assert asyncio.run(run(STRICT)) == 0
    assert asyncio.run(run(OPEN)) > 0


def test_yardsticks_refuse_private_targets() -> None:
    async def run(settings: Settings) -> tuple[int, str | None]:
        async with RawServer(_ok) as srv, Fetcher(settings) as fetcher:
            report = await collect_yardsticks(
                fetcher,
                srv.url + "/",
                platform="opensid",
                version=None,
                open_findings=0,
                now=NOW,
                http_url=srv.url + "/",
                https_url=srv.url.replace("http:", "https:") + "/",
            )
            return len(srv.requests), report.tls.problem

    requests, tls = asyncio.run(run(STRICT))
    assert requests == 0 and tls == "blocked"  # pages and the TLS probe alike
    assert asyncio.run(run(OPEN))[0] > 0


def test_rdap_refuses_private_targets() -> None:
    async def run(settings: Settings) -> tuple[int, str]:
        async with RawServer(_ok) as srv, Fetcher(settings) as fetcher:
            check = await RdapClient(fetcher, srv.url).lookup("sukamaju.desa.id")
            return len(srv.requests), check.detail

    requests, detail = asyncio.run(run(STRICT))
    assert requests == 0 and "non-public" in detail
    assert asyncio.run(run(OPEN))[0] == 1


def test_discover_refuses_private_targets() -> None:
    async def run(allow: bool) -> tuple[bool, int]:
        resolver = SystemResolver(allow_private=allow, timeout=2)
        async with RawServer(_ok) as srv:
            prober = Prober(resolver, timeout=3, concurrency=1)
            try:
                got = await prober.get(srv.url + "/")
            finally:
                await prober.aclose()
            return got is not None, len(srv.requests)

    assert asyncio.run(run(False)) == (False, 0)
    assert asyncio.run(run(True)) == (True, 1)


def _event() -> AlertEvent:
    return AlertEvent(
        "finding_opened", "33.03.01.2001", "Kedungbenda", "judi_online", "critical",
        "https://kedungbenda.desa.id/", "slot gacor", NOW.isoformat(),
    )  # fmt: skip


def test_alert_webhook_refuses_private_targets() -> None:
    async def run(settings: Settings) -> tuple[int, int]:
        async with RawServer(_ok) as srv, Fetcher(settings) as fetcher:
            alerts = AlertSettings(webhook_url=srv.url + "/hook")
            sent = await send_alerts(alerts, [_event()], fetcher)
            return sent, len(srv.requests)

    assert asyncio.run(run(STRICT)) == (0, 0)
    assert asyncio.run(run(OPEN)) == (1, 1)


def test_apprise_targets_refuse_private_targets() -> None:
    """A JSON webhook and a mail server given as Apprise URLs: with the guard on, their
    host's address is checked before Apprise connects, and nothing reaches them."""
    connections: list[int] = []

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    async def run(settings: Settings) -> tuple[list[str | None], int, int]:
        mail = await asyncio.start_server(count, "127.0.0.1", 0)
        port = mail.sockets[0].getsockname()[1]
        async with mail, RawServer(_ok) as srv, Fetcher(settings) as fetcher:
            alerts = AlertSettings(send_timeout=3)
            hook = srv.url.replace("http://", "json://") + "/hook"
            smtp = f"mailto://127.0.0.1:{port}?from=a@kominfo.example&to=b@kominfo.example"
            why = [await send_one(url, _event(), alerts, fetcher) for url in (hook, smtp)]
            return why, len(srv.requests), len(connections)

    why, requests, mails = asyncio.run(run(STRICT))
    assert (requests, mails) == (0, 0)
    assert all(w and "127.0.0.1 resolves to the non-public address 127.0.0.1" in w for w in why)
    why, requests, mails = asyncio.run(run(OPEN))
    assert why[0] is None and requests == 1 and mails == 1  # the guard off: both reached


def test_the_hosts_an_apprise_target_contacts() -> None:
    """What the guard resolves: a service's fixed endpoint (never a bot token or a webhook
    id taken for a host), the mail server, the host a JSON webhook names."""
    import apprise

    from aggregator.alerts.send import contacted_hosts

    def hosts(url: str) -> list[str]:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        assert plugin is not None, url
        return contacted_hosts(plugin)

    assert hosts("tgram://123456789:AAE-bottoken/-1001") == ["api.telegram.org"]
    assert hosts("discord://1234/abcdef") == ["discord.com"]
    assert hosts("mailtos://sipande:pw@mail.kominfo.example?to=a@kominfo.example") == [
        "mail.kominfo.example"
    ]
    assert hosts("json://alertmanager:9093/hook") == ["alertmanager"]
    assert hosts("jsons://[::1]:8443/hook") == ["::1"]


def test_import_opendk_refuses_a_private_listing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "districts.yaml"
    shutil.copyfile(ROOT / "config" / "districts.yaml", config)
    before = config.read_bytes()
    assert "allow_private_addresses: false" in before.decode()

    async def run() -> tuple[int, int]:
        async with RawServer(_ok) as srv:
            code = await asyncio.to_thread(
                main, ["import-opendk", srv.url, "--config", str(config)]
            )
            return code, len(srv.requests)

    assert asyncio.run(run()) == (1, 0)
    assert "non-public address" in capsys.readouterr().err
    assert config.read_bytes() == before


def test_import_opendk_follows_no_redirect_or_next_link_to_a_private_address() -> None:
    """127.0.0.1 plays a public OpenDK here; what it points at (127.0.0.2) stays private."""

    def policy(address: str) -> bool:
        return address == "127.0.0.1"

    async def run(answer: bytes) -> str:
        async def opendk(
            method: str, path: str, headers: dict[str, str], w: asyncio.StreamWriter
        ) -> None:
            w.write(answer)

        async with RawServer(opendk) as srv, Fetcher(STRICT, address_policy=policy) as fetcher:
            with pytest.raises(OpenDKError) as info:
                await fetch_villages(srv.url, fetcher)
            assert len(srv.requests) == 1
            return str(info.value)

    redirect = response(302, b"", {"location": "http://127.0.0.2:8080/api/frontend/v1/desa"})
    assert "non-public address 127.0.0.2" in asyncio.run(run(redirect))
    page = (
        b'{"data": [{"attributes": {"kode_desa": "33.03.01.2001", "nama": "A"}}],'
        b' "links": {"next": "http://127.0.0.2:8080/internal"}}'
    )
    answer = response(200, page, {"content-type": "application/json"})
    assert "non-public address 127.0.0.2" in asyncio.run(run(answer))
