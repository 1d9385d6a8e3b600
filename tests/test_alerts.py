"""Alerts through Apprise on loopback: every event reaches a JSON webhook (`json://`) and a
real SMTP server (aiosmtpd), routed per region; the weekly digest; duplicates and the hourly
limit; a failing or hanging target is recorded while a poll pass completes; the admin page
and `sipande alert test`; config errors name file, line and field."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlmodel import Session, select

from aggregator.alerts import AlertEvent
from aggregator.alerts.job import run_alerts
from aggregator.alerts.outbox import deliver_due, queue_alerts
from aggregator.errors import ConfigError
from aggregator.fetch.client import Fetcher
from aggregator.integrity.watch import FindingReport, IntegrityReport
from aggregator.models import AlertSend
from aggregator.poll.poller import Poller
from aggregator.settings import Settings, parse_config
from aggregator.store import Store
from aggregator.yardsticks.expiry import ExpiryEvent, expiry_alert_event
from tests.conftest import RawServer, response

A, B = "33.03.01.2001", "33.03.02.2001"  # Kemangkon's and Bukateja's villages with a site
SENDER, TO = "sipande@purbalinggakab.example", "kominfo@purbalinggakab.example"


class Mailbox:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    @property
    def subjects(self) -> list[str]:
        return [str(m["subject"]) for m in self.messages]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


async def _ok(method: str, path: str, headers: dict[str, str], w: asyncio.StreamWriter) -> None:
    w.write(response(200, b"{}", {"content-type": "application/json"}))


def _titles(hook: RawServer) -> list[str]:
    """What Apprise's json:// target posted: one JSON document per message."""
    return [json.loads(b)["title"] for b in hook.bodies]


def _rss(published: datetime) -> bytes:
    item = (
        "<item><title>Musyawarah desa</title><link>https://desa.example/artikel/musdes</link>"
        f"<guid>https://desa.example/artikel/musdes</guid><pubDate>{format_datetime(published)}"
        "</pubDate><description>Rapat APBDes</description></item>"
    )
    return f'<rss version="2.0"><channel><title>Desa</title>{item}</channel></rss>'.encode()


def _config(site: str, targets: list[str], kec: list[str], extra: str = "") -> str:
    """Two kecamatan, a village with a site in each; `targets` get everything, `kec` gets
    Kemangkon's events; `extra` adds lines to `settings.alerts`."""
    quoted = ", ".join(f'"{t}"' for t in targets)
    return f"""\
kabupaten: {{code: "33.03", name: Purbalingga}}
settings:
  allow_private_addresses: true
  integrity_watch: false
  unreachable_after: 1
  recover_after: 1
  low_activity_days: 40
  request_timeout: 3s
  base_url: https://sipande.purbalinggakab.example
  alerts:
    targets: [{quoted}]
    kecamatan:
      "33.03.01": [{", ".join(f'"{k}"' for k in kec)}]
    digest_day: off{extra}
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {{code: "{A}", name: Kedungbenda, url: "{site}/a", platform: feed}}
      - {{code: "33.03.01.2002", name: Bokol}}
  - code: "33.03.02"
    name: Bukateja
    villages:
      - {{code: "{B}", name: Majasari, url: "{site}/b", platform: feed}}
"""


def _mail(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from={SENDER}&to={TO}"


def _json(server: RawServer, path: str) -> str:
    return server.url.replace("http://", "json://") + path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a SQLite file, or the test PostgreSQL emptied first."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/alerts.db"
    url = os.environ.get("SIPANDE_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip("SIPANDE_TEST_POSTGRES_URL not set (.ci/run sets it)")
    wipe = Store(url)
    with wipe.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    wipe.close()
    return url


def _store(url: str, text: str) -> Store:
    config = parse_config(text, "districts.yaml")
    store = Store(url, config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    return store


def _report(level: str) -> IntegrityReport:
    found = FindingReport("judi_online", "compromised", "slot gacor", "http://b/", 90, ("s",))
    return IntegrityReport(level, 90, (found,) if level == "compromised" else (), (), 1)


def _sends(store: Store) -> list[AlertSend]:
    with Session(store.engine) as s:
        return list(s.exec(select(AlertSend).order_by(AlertSend.id)).all())  # type: ignore[arg-type]


def test_every_event_reaches_webhook_and_smtp_through_apprise_routed_per_region(
    db: str,
) -> None:
    now = datetime.now(UTC)
    down = {"a": False}

    async def site(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        if path == "/a" and down["a"]:
            w.write(response(500, b"rusak"))
        else:
            w.write(response(200, _rss(now - timedelta(days=2)), {"content-type": "text/xml"}))

    async def main(box: Mailbox, smtp_port: int) -> tuple[list[str], list[str]]:
        async with RawServer(site) as srv, RawServer(_ok) as kab, RawServer(_ok) as kec:
            text = _config(srv.url, [_json(kab, "/kab"), _mail(smtp_port)], [_json(kec, "/kec")])
            store = _store(db, text)
            settings = store.settings
            async with Fetcher(settings) as fetcher:
                poller = Poller(store, fetcher, settings)

                async def poll(at: datetime) -> None:
                    await poller.run_pass(store.due_villages(at, all_villages=True))
                    await run_alerts(store, fetcher, settings, at)

                await poll(now)  # first look: every status is remembered, nothing announced
                assert store.village_detail(A)["status"] == "active"  # type: ignore[index]
                assert _sends(store) == [] and kab.bodies == [] and box.messages == []

                down["a"] = True  # Kedungbenda's site breaks: unreachable, Kemangkon not ready
                events = store.record_integrity(B, _report("compromised"), now)
                post = AlertEvent("finding_opened", B, "Majasari", "judi_online_post",
                                  "compromised", "http://b/1", "slot", now.isoformat())  # fmt: skip
                soon = ExpiryEvent("certificate", "expiring", 14, 9, "kedungbenda.desa.id")
                expiry = expiry_alert_event(soon, village_code=A, village_name="Kedungbenda",
                                            url="https://kedungbenda.desa.id/", at=now)  # fmt: skip
                queue_alerts(store.engine, settings.alerts, [*events, post, expiry], now)
                await poll(now)
                down["a"] = False  # back up; Majasari clean twice: resolved
                for _ in range(2):
                    events = store.record_integrity(B, _report("clean"), now)
                    queue_alerts(store.engine, settings.alerts, events, now)
                await poll(now)
                later = now + timedelta(days=60)  # no post for two months: inactive
                store.refresh_statuses(later)
                await run_alerts(store, fetcher, settings, later)
            assert all(s.status == "sent" for s in _sends(store)), [s.error for s in _sends(store)]
            store.close()
            return _titles(kab), _titles(kec)

    with smtp_server() as (box, port):
        kab_titles, kec_titles = asyncio.run(main(box, port))
    expected = [
        f"[Sipande] TERDETEKSI: judi_online di Majasari ({B})",
        f"[Sipande] TERDETEKSI: judi_online_post di Majasari ({B})",
        f"[Sipande] SEGERA KEDALUWARSA: certificate_expiring di Kedungbenda ({A})",
        f"[Sipande] TIDAK TERJANGKAU: unreachable di Kedungbenda ({A})",
        "[Sipande] TIDAK LAGI SIAP SIPANDE: siap_sipande di Kemangkon (33.03.01)",
        "[Sipande] TIDAK LAGI SIAP SIPANDE: siap_sipande di Bukateja (33.03.02)",
        f"[Sipande] PULIH: judi_online di Majasari ({B})",
        f"[Sipande] KEMBALI TERJANGKAU: active di Kedungbenda ({A})",
        "[Sipande] SIAP SIPANDE: siap_sipande di Kemangkon (33.03.01)",
        "[Sipande] SIAP SIPANDE: siap_sipande di Bukateja (33.03.02)",
        f"[Sipande] TIDAK AKTIF: inactive di Kedungbenda ({A})",
        f"[Sipande] TIDAK AKTIF: inactive di Majasari ({B})",
        "[Sipande] TIDAK LAGI SIAP SIPANDE: siap_sipande di Kemangkon (33.03.01)",
        "[Sipande] TIDAK LAGI SIAP SIPANDE: siap_sipande di Bukateja (33.03.02)",
    ]
    # Dinkominfo's webhook and mailbox get every event, once; the kecamatan only its own.
    assert sorted(kab_titles) == sorted(expected)
    assert sorted(box.subjects) == sorted(expected)
    assert sorted(kec_titles) == sorted(t for t in expected if "(33.03.01" in t)
    assert all(m["to"] == TO and SENDER in str(m["from"]) for m in box.messages)
    mail = next(m for m in box.messages if "TIDAK TERJANGKAU" in str(m["subject"]))
    text = mail.get_body(("plain", "html"))
    assert text is not None
    content = text.get_content()
    assert "Status: Aktif → Tidak terjangkau" in content
    assert f"https://sipande.purbalinggakab.example/desa/{A}" in content


def test_weekly_digest_per_region_with_the_most_urgent_villages_and_links(db: str) -> None:
    monday = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # Senin 08:30 WIB

    async def main(box: Mailbox, port: int) -> tuple[list[bytes], list[bytes]]:
        async with RawServer(_ok) as kab, RawServer(_ok) as kec:
            site = "http://127.0.0.1:9"
            text = _config(site, [_json(kab, "/kab"), _mail(port)], [_json(kec, "/kec")])
            store = _store(db, text.replace("digest_day: off", "digest_day: senin"))
            settings = store.settings
            store.record_integrity(A, _report("compromised"), monday - timedelta(days=1))
            async with Fetcher(settings) as fetcher:
                await run_alerts(store, fetcher, settings, monday - timedelta(hours=2))
                assert kab.bodies == []  # 06:30 WIB: before digest_hour
                await run_alerts(store, fetcher, settings, monday)
                await run_alerts(store, fetcher, settings, monday + timedelta(hours=1))
                tuesday = monday + timedelta(days=1)
                await run_alerts(store, fetcher, settings, tuesday)
            store.close()
            return kab.bodies, kec.bodies

    with smtp_server() as (box, port):
        kab, kec = asyncio.run(main(box, port))
    (kab_digest,) = [json.loads(b) for b in kab]  # once a week, however often the job runs
    (kec_digest,) = [json.loads(b) for b in kec]
    assert kab_digest["title"] == "[Sipande] Ringkasan mingguan 2026-W50"
    assert box.subjects == ["[Sipande] Ringkasan mingguan 2026-W50"]
    body = kab_digest["message"]
    assert "Lima desa paling mendesak:" in body
    assert (
        f"1. Kedungbenda (Kec. Kemangkon): Disusupi https://sipande.purbalinggakab.example/desa/{A}"
        in body
    )
    assert "- Disusupi: 1" in body and "Kecamatan siap Sipande: 0" in body
    assert "Dasbor: https://sipande.purbalinggakab.example/" in body
    assert kec_digest["title"] == "[Sipande] Ringkasan mingguan 2026-W50: Kecamatan Kemangkon"
    assert "Majasari" not in kec_digest["message"]  # Bukateja's village: not Kemangkon's
    assert "dashboard/kecamatan/33.03.01" not in kec_digest["message"]
    assert (
        "Dasbor: https://sipande.purbalinggakab.example/kecamatan/33.03.01" in kec_digest["message"]
    )


def test_duplicates_are_recorded_not_sent_and_the_hourly_limit_holds_the_rest(db: str) -> None:
    now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)

    def event(village: str, kind: str = "judi_online") -> AlertEvent:
        return AlertEvent("finding_opened", village, "Desa", kind, "compromised", "", "x",
                          now.isoformat())  # fmt: skip

    async def main() -> tuple[list[str], list[list[str]]]:
        async with RawServer(_ok) as hook:
            url = hook.url.replace("http://", "json://") + "/kab"
            settings = Settings(allow_private_addresses=True)
            alerts = replace(settings.alerts, targets=(url,), rate_limit=2)
            settings = replace(settings, alerts=alerts)
            store = Store(db, settings)
            store.migrate()
            first = queue_alerts(store.engine, alerts, [event(A), event(A)], now)
            second = queue_alerts(store.engine, alerts, [event(A), event(B), event(B, "x")], now)
            assert (first, second) == (1, 2)
            rounds = []
            async with Fetcher(settings) as fetcher:
                for at in (now, now + timedelta(minutes=30), now + timedelta(minutes=61)):
                    await deliver_due(store.engine, alerts, fetcher, at)
                    rounds.append([s.status for s in _sends(store)])
            # Past the window the same event is news again.
            assert queue_alerts(store.engine, alerts, [event(A)], now + timedelta(hours=13)) == 1
            store.close()
            return _titles(hook), rounds

    titles, rounds = asyncio.run(main())
    assert rounds[0] == ["sent", "duplicate", "duplicate", "sent", "pending"]
    assert rounds[1] == rounds[0]  # the hour's two sends are spent
    assert rounds[2] == ["sent", "duplicate", "duplicate", "sent", "sent"]
    assert len(titles) == 3


def test_a_failing_target_is_recorded_while_the_poll_pass_completes(tmp_path: Path) -> None:
    """A target that answers 500 and one that never answers: the poll pass finishes at its
    own pace, the good targets still get their message, each failure is recorded."""
    now = datetime.now(UTC)

    async def broken(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        w.write(response(500, b"rusak"))

    async def hanging(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        await asyncio.sleep(60)  # ended when the server closes

    async def site(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        w.write(response(200, _rss(now - timedelta(days=1)), {"content-type": "text/xml"}))

    async def main(box: Mailbox, port: int) -> None:
        async with (
            RawServer(site) as srv,
            RawServer(broken) as bad,
            RawServer(hanging) as slow,
            RawServer(_ok) as good,
        ):
            legacy = f'\n    webhook_url: "{good.url}/legacy"\n    send_timeout: 5s'
            text = _config(srv.url, [_json(bad, "/hook"), _mail(port)], [_json(slow, "/hook")],
                           legacy)  # fmt: skip
            store = _store(f"sqlite:///{tmp_path}/f.db", text)
            settings = store.settings
            event = AlertEvent("finding_opened", A, "Kedungbenda", "judi_online", "compromised",
                               "http://a/", "slot gacor", now.isoformat())  # fmt: skip
            assert queue_alerts(store.engine, settings.alerts, [event], now) == 4
            async with Fetcher(settings) as fetcher:
                poller = Poller(store, fetcher, settings)
                due = store.due_villages(now, all_villages=True)
                alerts = deliver_due(store.engine, settings.alerts, fetcher, now)
                sending = asyncio.create_task(alerts)
                report = await poller.run_pass(due)
                assert report.ok == 2 and not sending.done()  # polled while a send hangs
                assert await sending == {"sent": 2, "failed": 2}
            rows = {s.target_label.split("/")[2]: s for s in _sends(store)}
            store.close()
            failed = [rows[bad.url[7:]], rows[slow.url[7:]]]
        assert [(s.status, s.attempts) for s in failed] == [("retry", 1), ("retry", 1)]
        assert "500" in failed[0].error and failed[1].error == "no answer within 5s"
        assert failed[0].next_try_at is not None and failed[0].next_try_at > now
        assert json.loads(good.bodies[0])["event"] == "finding_opened"  # today's JSON body
        assert [str(m["subject"]) for m in box.messages] == [
            f"[Sipande] TERDETEKSI: judi_online di Kedungbenda ({A})"
        ]

    with smtp_server() as (box, port):
        asyncio.run(main(box, port))


def test_config_errors_name_file_line_and_field() -> None:
    text = """\
kabupaten: {code: "33.03", name: Purbalingga}
settings:
  alerts:
    targets: ["nosuchservice://x/y", "tgram://123456789:AAE-bottoken/-1001"]
    kecamatan:
      "33.3.1": ["json://127.0.0.1/hook"]
    digest_day: someday
    rate_limit: 0
kecamatan: [{code: "33.03.01", name: Kemangkon, villages: []}]
"""
    with pytest.raises(ConfigError) as e:
        parse_config(text, "districts.yaml")
    problems = e.value.problems
    assert problems[0].startswith("districts.yaml:4: settings.alerts.targets: nosuchservice://")
    assert "not an alert target Apprise understands" in problems[0]
    assert "districts.yaml:6: settings.alerts.kecamatan.33.3.1: '33.3.1' is not" in problems[1]
    assert problems[2].startswith("districts.yaml:7: settings.alerts.digest_day: must be a day")
    assert problems[3].startswith("districts.yaml:8: settings.alerts.rate_limit: must be")
    assert len(problems) == 4
    elsewhere = text.replace('"33.3.1"', '"33.03.09"')
    with pytest.raises(ConfigError) as e:
        parse_config(elsewhere, "districts.yaml")
    where = "districts.yaml:6: settings.alerts.kecamatan.33.03.09"
    assert f"{where}: no kecamatan with this code in the file" in e.value.problems
    fixed = text.replace('"nosuchservice://x/y", ', "").replace('"33.3.1"', '"33.03.01"')
    good = parse_config(fixed.replace("someday", "jumat").replace("rate_limit: 0", "rate_limit: 5"))
    alerts = good.settings.alerts
    assert alerts.targets == ("tgram://123456789:AAE-bottoken/-1001",)
    assert alerts.kecamatan_targets("33.03.01") == ("json://127.0.0.1/hook",)
    assert (alerts.digest_day, alerts.rate_limit) == (4, 5)


def test_alert_test_command_sends_to_every_target_and_records_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aggregator.cli import main

    async def broken(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        w.write(response(500, b"rusak"))

    async def main_(box: Mailbox, port: int) -> tuple[int, list[str]]:
        async with RawServer(_ok) as kab, RawServer(broken) as kec:
            path = tmp_path / "districts.yaml"
            text = _config("http://127.0.0.1:9", [_json(kab, "/kab"), _mail(port)],
                           [_json(kec, "/kec")])  # fmt: skip
            path.write_text(text, encoding="utf-8")
            db = f"sqlite:///{tmp_path}/cli.db"
            code = await asyncio.to_thread(
                main, ["alert", "test", "--config", str(path), "--database", db]
            )
            store = Store(db, Settings())
            statuses = sorted(s.status for s in _sends(store))
            store.close()
            assert _titles(kab) == ["[Sipande] Uji coba peringatan"]
            return code, statuses

    with smtp_server() as (box, port):
        code, statuses = asyncio.run(main_(box, port))
    out = capsys.readouterr().out
    assert code == 1 and statuses == ["failed", "sent", "sent"]
    assert out.count("terkirim  ") == 2 and "GAGAL     json://127.0.0.1:" in out
    assert "2 dari 3 target menerima pesan uji coba." in out
    assert (
        "Pesan uji coba dari Sipande" in box.messages[0].get_body(("plain", "html")).get_content()
    )  # type: ignore[union-attr]


def test_which_status_changes_are_news() -> None:
    from aggregator.alerts.job import _transition

    assert _transition("active", "unreachable") == "village_unreachable"
    assert _transition("unreachable", "inactive") == "village_reachable"  # back, if quiet
    assert _transition("low_activity", "inactive") == "village_inactive"
    assert _transition("compromised", "inactive") == "village_inactive"
    # A site just added is not news until it has a status; quieter but active is not either.
    assert _transition("no_site", "inactive") is None and _transition("no_site", "active") is None
    assert _transition("active", "low_activity") is None
    assert _transition("active", "compromised") is None  # the finding itself is the alert


def test_a_failing_target_is_tried_once_per_run_and_then_recorded_as_failed(
    tmp_path: Path,
) -> None:
    now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)

    async def broken(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        w.write(response(500, b"rusak"))

    async def main() -> tuple[list[list[tuple[str, int]]], int]:
        async with RawServer(broken) as hook:
            settings = Settings(allow_private_addresses=True)
            alerts = replace(settings.alerts, targets=(_json(hook, "/kab"),))
            store = Store(f"sqlite:///{tmp_path}/f.db", replace(settings, alerts=alerts))
            store.migrate()
            events = [
                AlertEvent("village_unreachable", f"33.03.01.200{i}", "Desa", "unreachable",
                           "warning", "", "x", now.isoformat())
                for i in range(3)
            ]  # fmt: skip
            queue_alerts(store.engine, alerts, events, now)
            seen = []
            async with Fetcher(settings) as fetcher:
                for minutes in (0, 1, *range(15, 300, 15)):
                    at = now + timedelta(minutes=minutes)
                    await deliver_due(store.engine, alerts, fetcher, at)
                    seen.append([(s.status, s.attempts) for s in _sends(store)])
            store.close()
            return seen, len(hook.requests)

    seen, requests = asyncio.run(main())
    assert seen[0] == [("retry", 1), ("pending", 0), ("pending", 0)]  # one try per run
    assert seen[1] == [("retry", 1), ("retry", 1), ("pending", 0)]
    assert seen[-1] == [("failed", 3), ("failed", 3), ("failed", 3)]
    assert requests == 9  # three tries each, then no more
