"""Expiry alerts: each threshold (30, 14, 7 days; 0 = expired) fires once, renewal says so once,
unknown readings change nothing; the events reach a webhook on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from aggregator.alerts.send import send_alerts
from aggregator.fetch.client import Fetcher
from aggregator.settings import AlertSettings, Settings
from aggregator.yardsticks.expiry import (
    ExpiryEvent,
    ExpiryWatch,
    check_expiry,
    expiry_alert_event,
)
from tests.conftest import RawServer, response

AT = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)


def _run(readings: list[int | None], subject: str = "certificate") -> list[tuple[int | None, str]]:
    """(days left, event) for each reading that fired, checking in order from no state."""
    watch = ExpiryWatch()
    fired = []
    for days in readings:
        watch, event = check_expiry(subject, days, watch)
        if event is not None:
            fired.append(
                (
                    days,
                    event.event if event.threshold is None else f"{event.event}@{event.threshold}",
                )
            )
    return fired


def test_each_threshold_fires_once_on_a_daily_countdown() -> None:
    assert _run(list(range(35, -3, -1))) == [
        (30, "expiring@30"),
        (14, "expiring@14"),
        (7, "expiring@7"),
        (0, "expired@0"),
    ]


def test_a_gap_between_checks_fires_only_the_most_urgent_threshold() -> None:
    assert _run([40, 20, 5, 4]) == [(20, "expiring@30"), (5, "expiring@7")]
    assert _run([9]) == [(9, "expiring@14")]  # first ever check, already inside 14 days


def test_failed_checks_neither_repeat_nor_reset() -> None:
    assert _run([29, None, 28, None, None, 13]) == [(29, "expiring@30"), (13, "expiring@14")]


def test_renewal_is_announced_once_and_rearms_the_thresholds() -> None:
    assert _run([10, 9, 89, 88, 30]) == [
        (10, "expiring@14"),
        (89, "renewed"),
        (30, "expiring@30"),
    ]
    assert _run([90, 80]) == []  # nothing alerted, nothing to announce


def test_event_texts() -> None:
    assert ExpiryEvent("certificate", "expiring", 14, 9).text == (
        "Sertifikat HTTPS kedaluwarsa dalam 9 hari"
    )
    domain = ExpiryEvent("domain", "expired", 0, -3, "sukamaju.desa.id")
    assert domain.text == "Domain sukamaju.desa.id sudah kedaluwarsa sejak 3 hari lalu"
    renewed = ExpiryEvent("domain", "renewed", None, 365, "sukamaju.desa.id")
    assert renewed.text == "Domain sukamaju.desa.id sudah diperpanjang (berlaku 365 hari lagi)"


def test_expiry_alerts_reach_the_webhook() -> None:
    _, soon = check_expiry("certificate", 9, ExpiryWatch(), name="sukamaju.desa.id")
    _, gone = check_expiry("domain", -1, ExpiryWatch(30), name="sukamaju.desa.id")
    assert soon is not None and gone is not None
    events = [
        expiry_alert_event(
            e,
            village_code="33.03.05.2001",
            village_name="Sukamaju",
            url="https://sukamaju.desa.id/",
            at=AT,
        )
        for e in (soon, gone)
    ]

    async def hook(
        method: str, path: str, headers: dict[str, str], w: asyncio.StreamWriter
    ) -> None:
        w.write(response(200, b"{}", {"content-type": "application/json"}))

    async def main() -> tuple[int, list[bytes]]:
        loopback = Settings(allow_private_addresses=True)
        async with RawServer(hook) as server, Fetcher(loopback) as fetcher:
            hook_url = server.url + "/hook"
            sent = await send_alerts(AlertSettings(webhook_url=hook_url), events, fetcher)
            return sent, server.bodies

    sent, bodies = asyncio.run(main())
    assert sent == 2
    assert [json.loads(b) for b in bodies] == [
        {
            "event": "expiry_warning",
            "village_code": "33.03.05.2001",
            "village_name": "Sukamaju",
            "kind": "certificate_expiring",
            "level": "warning",
            "url": "https://sukamaju.desa.id/",
            "evidence": "Sertifikat HTTPS sukamaju.desa.id kedaluwarsa dalam 9 hari",
            "at": "2026-03-15T03:00:00+00:00",
        },
        {
            "event": "expiry_warning",
            "village_code": "33.03.05.2001",
            "village_name": "Sukamaju",
            "kind": "domain_expired",
            "level": "critical",
            "url": "https://sukamaju.desa.id/",
            "evidence": "Domain sukamaju.desa.id sudah kedaluwarsa sejak 1 hari lalu",
            "at": "2026-03-15T03:00:00+00:00",
        },
    ]
