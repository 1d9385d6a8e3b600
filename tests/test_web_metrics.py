"""/metrics and /healthz over a store filled by polling a small simulated fleet."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlmodel import Session, col, func, select

from aggregator.cli import poll_once
from aggregator.decide.status import STATUSES
from aggregator.models import Check, Village
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.web import create_app
from fleet import Fleet
from tests.conftest import LiveServer

FAST = {"request_timeout": "2s", "connect_timeout": "2s"}
VILLAGES = 5


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Two passes over 5 villages: one answering 500, one whose name does not resolve."""
    tmp: Path = tmp_path_factory.mktemp("metrics")

    async def fill() -> Store:
        async with Fleet.from_district(VILLAGES, seed=4) as fleet:
            broken, erroring = fleet.villages[0].code, fleet.villages[1].code
            text = fleet.config_yaml(settings=FAST)
            text = text.replace(fleet.url(broken), "http://nowhere.desa.invalid/")
            fleet.set_behaviour(erroring, "down_500")
            config = parse_config(text, "fleet.yaml")
            store = Store(f"sqlite:///{tmp}/metrics.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            await poll_once(config, store)
            await poll_once(config, store, villages=[broken, erroring])
            return store

    s = asyncio.run(fill())
    yield s
    s.close()


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[httpx.Client]:
    app = create_app(store.settings, store=store, run_scheduler=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def scrape(client: httpx.Client) -> dict[str, list[Sample]]:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f.samples for f in text_string_to_metric_families(resp.text)}


def test_metrics_parse_and_match_the_checks_stored(client: httpx.Client, store: Store) -> None:
    metrics = scrape(client)
    with Session(store.engine) as s:
        checks = s.exec(select(Check)).all()
        statuses = Counter(s.exec(select(Village.status).where(col(Village.in_config))).all())
        last = s.exec(select(func.max(Check.started_at))).one()
    assert len(checks) == VILLAGES + 2
    want = Counter(("ok" if c.ok else "failed", c.phase or "none") for c in checks)
    got = {
        (m.labels["result"], m.labels["phase"]): m.value for m in metrics["sipande_checks_stored"]
    }
    assert got == want
    assert want[("failed", "dns")] == 2 and want[("failed", "http")] == 2

    durations = {
        (m.name, m.labels.get("le")): m.value for m in metrics["sipande_check_duration_seconds"]
    }
    assert durations[("sipande_check_duration_seconds_count", None)] == len(checks)
    assert durations[("sipande_check_duration_seconds_bucket", "+Inf")] == len(checks)
    total_s = sum(c.duration_ms for c in checks) / 1000
    assert durations[("sipande_check_duration_seconds_sum", None)] == pytest.approx(total_s)
    for bound in (0.1, 1.0, 10.0):
        within = sum(c.duration_ms <= bound * 1000 for c in checks)
        assert durations[("sipande_check_duration_seconds_bucket", repr(bound))] == within

    villages = {m.labels["status"]: m.value for m in metrics["sipande_villages"]}
    assert set(villages) == set(STATUSES)
    assert villages == {status: statuses.get(status, 0) for status in STATUSES}
    overdue = store.overdue_stats(datetime.now(UTC))["overdue"]
    assert metrics["sipande_queue_depth"][0].value == overdue
    assert metrics["sipande_store_up"][0].value == 1
    assert last is not None
    stamp = metrics["sipande_last_check_timestamp_seconds"][0].value
    assert stamp == pytest.approx(last.timestamp())
    assert 0 <= metrics["sipande_last_pass_age_seconds"][0].value < 120


def test_healthz_reports_store_backlog_scheduler_and_last_pass(
    client: httpx.Client, store: Store
) -> None:
    body = client.get("/healthz").json()
    assert body["ok"] is True and body["store"] == "ok"
    assert body["scheduler"] == "ok" and body["overdue"] == 0
    assert body["last_check_at"] is not None and 0 <= body["last_pass_age_s"] < 120
    assert sum(body["villages"].values()) == VILLAGES

    # Every village a day overdue: nobody is dispatching, whatever the process thinks.
    store.mark_all_due(datetime.now(UTC) - timedelta(days=1))
    body = client.get("/healthz").json()
    assert body["scheduler"] == "stalled" and body["overdue"] == VILLAGES
    assert body["max_lateness_s"] >= 86400
    assert scrape(client)["sipande_queue_depth"][0].value == VILLAGES


def test_an_unreachable_store_gives_503_and_store_up_0(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database " * 100)
    broken = Store(f"sqlite:///{path}")
    app = create_app(broken.settings, store=broken, run_scheduler=False)
    try:
        with LiveServer(app) as server:
            resp = httpx.get(server.url + "/healthz", timeout=10)
            assert resp.status_code == 503
            assert resp.json()["ok"] is False and resp.json()["store"] == "unreachable"
            resp = httpx.get(server.url + "/metrics", timeout=10)
            families = {f.name: f for f in text_string_to_metric_families(resp.text)}
            assert families["sipande_store_up"].samples[0].value == 0
    finally:
        broken.close()
