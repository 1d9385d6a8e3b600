"""The integrity watch end to end on loopback: a village site injected with gambling links is
reported with evidence, resolves after two clean scans, and alerts fire once per change on a
webhook and over SMTP; cloaking is caught by comparing what a browser and a crawler get."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from aggregator.alerts.outbox import deliver_due
from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.settings import parse_config
from aggregator.store import Store
from tests.conftest import RawServer, response

FIX = Path(__file__).parent / "fixtures" / "integrity"
CODE = "33.03.01.2001"


class SmtpSink:
    """A minimal SMTP receiver on loopback that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> SmtpSink:
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                writer.write(b"354 go\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.messages.append(data.decode("utf-8", "replace"))
                writer.write(b"250 ok\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


def _store(tmp: Path, site: str, hook: str, smtp_port: int) -> Store:
    text = f"""\
kabupaten: {{code: "33.03", name: Purbalingga}}
settings:
  allow_private_addresses: true
  first_read_spread: 0  # the first poll scans
  request_timeout: 3s
  integrity_interval: 1ms
  alerts: {{webhook_url: "{hook}", smtp_host: 127.0.0.1, smtp_port: {smtp_port},
            email_to: [kominfo@purbalinggakab.example]}}
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {{code: "{CODE}", name: Kedungbenda, url: "{site}", platform: html}}
"""
    config = parse_config(text)
    store = Store(f"sqlite:///{tmp}/s.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    return store


def test_injection_opens_a_finding_two_clean_scans_resolve_it_alerts_once(tmp_path: Path) -> None:
    page = {"home": (FIX / "p01_hidden_footer.html").read_bytes()}

    async def site(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(response(200 if path == "/" else 404, page["home"] if path == "/" else b""))

    async def hook(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(response(204))

    async def main() -> None:
        async with RawServer(site) as srv, RawServer(hook) as receiver, SmtpSink() as smtp:
            store = _store(tmp_path, srv.url + "/", receiver.url + "/alert", smtp.port)
            async with Fetcher(store.settings) as fetcher:
                poller = Poller(store, fetcher, store.settings)

                async def scan() -> dict[str, object]:
                    due = store.due_villages(datetime.now(UTC), all_villages=True)
                    await poller.run_pass(due)
                    detail = store.village_detail(CODE)
                    assert detail is not None
                    return detail

                v = await scan()
                assert v["status"] == "compromised" and v["open_findings"] == 1
                (finding,) = store.findings(status="open")
                assert finding["kind"] == "judi_online" and finding["url"].startswith(srv.url)
                assert "hidden" in finding["evidence"].lower()
                await scan()  # still injected: updated, no new alert
                page["home"] = (FIX / "clean_opensid_esensi.html").read_bytes()
                v = await scan()
                assert v["status"] == "compromised"  # one clean scan is not enough
                v = await scan()
                assert v["status"] != "compromised" and v["open_findings"] == 0
                assert store.findings(status="resolved")[0]["kind"] == "judi_online"
                # Polls only queue alerts; the alerts job sends them, off the poll path.
                assert receiver.bodies == [] and smtp.messages == []
                sent = await deliver_due(
                    store.engine, store.settings.alerts, fetcher, datetime.now(UTC)
                )
                assert sent == {"sent": 4, "failed": 0}
            store.close()
        events = [json.loads(b) for b in receiver.bodies]
        assert [e["event"] for e in events] == ["finding_opened", "finding_resolved"]
        assert events[0]["village_code"] == CODE and events[0]["evidence"]
        assert len(smtp.messages) == 2
        assert "TERDETEKSI" in smtp.messages[0] and "PULIH" in smtp.messages[1]

    asyncio.run(main())


def test_crawler_only_spam_is_cloaking_and_anti_judol_news_is_not_flagged(tmp_path: Path) -> None:
    variants = {k: (FIX / f"p08_cloak_ua.{k}.html").read_bytes() for k in ("browser", "crawler")}
    clean = (FIX / "antijudol_article.html").read_bytes()

    async def cloaked(method, path, headers, w):  # type: ignore[no-untyped-def]
        body = variants["crawler" if "Googlebot" in headers.get("user-agent", "") else "browser"]
        w.write(response(200 if path == "/" else 404, body if path == "/" else b""))

    async def antijudol(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(response(200 if path == "/" else 404, clean if path == "/" else b""))

    async def main() -> None:
        async with RawServer(cloaked) as bad, RawServer(antijudol) as good:
            for srv, expect in ((bad, "compromised"), (good, None)):
                sub = tmp_path / expect if expect else tmp_path / "clean"
                sub.mkdir()
                store = _store(sub, srv.url + "/", "", 25)
                async with Fetcher(store.settings) as fetcher:
                    poller = Poller(store, fetcher, store.settings)
                    await poller.run_pass(store.due_villages(datetime.now(UTC), all_villages=True))
                status = store.village_detail(CODE)["status"]  # type: ignore[index]
                findings = store.findings(status="open")
                if expect:
                    assert status == "compromised"
                    assert findings and findings[0]["kind"] == "cloaking"
                else:
                    assert status != "compromised" and findings == []
                store.close()
            crawler_hits = [h for _, p, h in bad.requests if "Googlebot" in h.get("user-agent", "")]
            assert crawler_hits  # the scan really fetched as a crawler

    asyncio.run(main())
