"""Activity score and status: pure rules, a simulated 60+ days with injected time, and
live config changes of weights and windows."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from aggregator.decide.schedule import decide
from aggregator.decide.scoring import ScoringSettings, VillageFacts, score_village, visitors_per_day
from aggregator.service.reload import ConfigReloader
from aggregator.settings import Settings, parse_config
from aggregator.store import Store
from aggregator.types import Harvest, ParsedItem, PollOutcome, ServiceObservation
from aggregator.web import create_app
from tests.conftest import LiveServer

T0 = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)
S = ScoringSettings()
CODE = "33.03.01.2001"
CONFIG = """\
kabupaten: {code: "33.03", name: Purbalingga}
settings:
  scoring: {weight_freshness: 30, weight_cadence: 25}
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {code: "33.03.01.2001", name: Kedungbenda, url: "http://kedungbenda.example/"}
      - {code: "33.03.01.2002", name: Bokol, url: ""}
"""


def facts(**kw: object) -> VillageFacts:
    base: dict[str, object] = dict(
        has_site=True, compromised=False, days_since_post=3.0, posts_30d=8, checks=10,
        checks_ok=10, services={k: True for k in ("lapak", "ppid")}, visitors_per_day=50.0,
    )  # fmt: skip
    base.update(kw)
    return VillageFacts(**base)  # type: ignore[arg-type]


def test_every_component_has_value_weight_points_and_reason() -> None:
    result = score_village(facts(), S)
    keys = [c.key for c in result.components]
    assert keys == ["freshness", "cadence", "availability", "services", "engagement"]
    for c in result.components:
        assert c.reason and c.weight > 0 and c.value is not None
    services = next(c for c in result.components if c.key == "services")
    assert (
        services.value == round(2 / 7, 3) and "belum ada atau kosong: Pengaduan" in services.reason
    )
    assert 0 < result.score < 100
    assert result.score == round(sum(c.points for c in result.components), 1)


def test_freshness_boundaries_and_unknowns() -> None:
    def fresh(days: float | None) -> float | None:
        comp = score_village(facts(days_since_post=days), S).components[0]
        return comp.value

    assert fresh(0.5) == 1.0 and fresh(7) == 1.0
    assert fresh(90) == 0.0 and fresh(None) == 0.0 and fresh(400) == 0.0
    assert 0.0 < fresh(48) < 1.0  # type: ignore[operator]
    unknown = score_village(facts(checks=0, checks_ok=0, visitors_per_day=None), S)
    skipped = [c for c in unknown.components if c.value is None]
    assert {c.key for c in skipped} == {"availability", "engagement"}
    assert all("tidak dihitung" in c.reason for c in skipped)
    every = ("lapak", "ppid", "pengaduan", "pembangunan", "statistik", "pemerintah")
    perfect = facts(
        services=dict.fromkeys((*every, "layanan_mandiri"), True), checks=0, checks_ok=0
    )
    assert score_village(perfect, S).score == 100.0  # rescaled over what is known


def test_no_site_and_compromised_penalty() -> None:
    assert score_village(facts(has_site=False), S).score == 0.0
    clean = score_village(facts(), S)
    hijacked = score_village(facts(compromised=True), S)
    assert hijacked.score == round(clean.score * 0.2, 1)
    assert hijacked.penalty is not None and "disusupi" in hijacked.penalty
    # A hijacked abandoned site whose only posts are spam: spam is never counted, so it has
    # no fresh post, no cadence, and still takes the penalty.
    abandoned = score_village(facts(compromised=True, days_since_post=None, posts_30d=0), S)
    assert abandoned.score < 10


def test_visitors_per_day_survives_counter_resets() -> None:
    day = timedelta(days=1)
    assert visitors_per_day([(T0, 1000), (T0 + day, 1100), (T0 + 2 * day, 1300)]) == 150
    assert visitors_per_day([(T0, 1000), (T0 + day, 10), (T0 + 2 * day, 110)]) == 50
    assert visitors_per_day([(T0, 5)]) is None


def _poll(store: Store, at: datetime, items: list[ParsedItem], *, ok: bool = True) -> None:
    village = store.due_villages(at, codes=[CODE], all_villages=True)[0]
    outcome = PollOutcome(
        CODE, at, 100, ok, phase=None if ok else "http", message=None if ok else "HTTP 500",
        harvest=Harvest("opensid", "24.10", items=tuple(items),
                        services=(ServiceObservation("ppid", True, 4),),
                        metrics={"visitors_total": 1000 + (at - T0).days * 40}) if ok else None,
    )  # fmt: skip
    store.record_poll(outcome, decide(village, outcome, store.settings))


def _item(n: int, published: datetime) -> ParsedItem:
    url = f"http://kedungbenda.example/artikel/{n}"
    return ParsedItem(f"Berita {n}", url, url, published, content_hash=f"{n:064d}")


def test_sixty_days_of_a_village_active_then_quiet_then_inactive_then_back(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db", parse_config(CONFIG).settings)
    store.migrate()
    store.sync_config(parse_config(CONFIG), T0)
    seen: dict[int, str] = {}
    last_post = T0 - timedelta(days=20)
    for day in range(0, 80):
        now = T0 + timedelta(days=day)
        items = [_item(1, last_post)]
        if day == 75:
            items.append(_item(2, now - timedelta(hours=1)))
        _poll(store, now, items)
        store.rollup_checks(now)
        store.score_all(now)
        seen[day] = store.village_detail(CODE)["status"]  # type: ignore[index]
    assert seen[0] == seen[10] == "active"  # last post 30 days ago on day 10
    assert seen[11] == "low_activity" and seen[70] == "low_activity"
    assert seen[71] == "inactive" and seen[74] == "inactive"
    assert seen[75] == "active"
    history = store.village_history(CODE, 80, T0 + timedelta(days=79))
    assert len(history) == 80
    assert [h["status"] for h in history][9:13] == [
        "active",
        "active",
        "low_activity",
        "low_activity",
    ]
    assert history[0]["score"] > history[50]["score"] > history[72]["score"]
    assert history[76]["score"] > history[72]["score"]
    assert history[5]["uptime"] == 1.0 and history[5]["checks"] == 1
    assert set(history[5]["components"]) == {"freshness", "cadence", "availability",
                                             "services", "engagement"}  # fmt: skip
    kec = store.kecamatan_history("33.03.01", 80, T0 + timedelta(days=79))
    assert len(kec) == 80 and kec[72]["counts"]["inactive"] == 1 and kec[0]["ready"]
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        got = httpx.get(f"{srv.url}/api/villages/{CODE}/history?days=400").json()
        # The endpoint counts days back from today; our simulated days are in 2026-09..11.
        assert [h["day"] for h in got] == [h["day"] for h in history if h["day"] >= got[0]["day"]]
        detail = httpx.get(f"{srv.url}/api/villages/{CODE}").json()
        assert {c["key"] for c in detail["score_components"]} >= {"freshness", "cadence"}
        assert all(c["reason"] for c in detail["score_components"])
        roll = httpx.get(f"{srv.url}/api/kecamatan").json()
        assert roll["kecamatan"][0]["counts"]["active"] == 1
        assert roll["kecamatan"][0]["counts"]["no_site"] == 1 and roll["kecamatan"][0]["ready"]
        assert roll["kabupaten"]["ready_kecamatan"] == 1
    store.close()


def test_changing_a_weight_in_the_config_changes_scores_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "districts.yaml"
    path.write_text(CONFIG)
    config = parse_config(CONFIG)
    store = Store(f"sqlite:///{tmp_path}/s.db", config.settings)
    store.migrate()
    store.sync_config(config, T0)
    _poll(store, T0, [_item(1, T0 - timedelta(days=40))])
    applied: list[Settings] = []
    reloader = ConfigReloader(path, store, on_settings=applied.append)
    store.score_all(T0)
    before = store.village_detail(CODE)["score"]  # type: ignore[index]
    assert reloader.check() is None  # unchanged file: nothing to do
    path.write_text(CONFIG.replace("weight_freshness: 30", "weight_freshness: 90"))
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert reloader.check() is not None
    assert applied and applied[0].scoring.weight_freshness == 90
    store.score_all(T0)
    detail = store.village_detail(CODE)
    assert detail is not None
    fresh = next(c for c in detail["score_components"] if c["key"] == "freshness")
    assert fresh["weight"] == 90
    # Freshness (0.6 for a 40-day-old post) now outweighs the empty cadence: score rises.
    assert detail["score"] > before
    path.write_text(CONFIG.replace("weight_freshness: 30", "weight_freshness: lots"))
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert (
        reloader.check() is None
        and reloader.last_error
        and "weight_freshness" in reloader.last_error
    )
    assert store.settings.scoring.weight_freshness == 90  # a bad edit changes nothing
    store.close()


def test_an_empty_or_stale_service_is_not_a_working_one() -> None:
    from datetime import UTC, datetime, timedelta

    from aggregator.decide.scoring import service_label, service_state

    now = datetime(2026, 12, 6, tzinfo=UTC)
    assert service_state(None, None, None, now) == "belum_terbaca"
    assert service_state(False, None, None, now) == "tidak_ada"
    assert service_state(True, 0, None, now) == "kosong"
    assert service_state(True, 3, now - timedelta(days=30), now) == "berisi"
    assert service_state(True, 3, now - timedelta(days=400), now) == "usang"
    assert service_state(True, None, None, now) == "berisi"  # an entry point, no count
    assert service_label({"available": True, "count": 12, "last_date": None}) == "ada, berisi 12"
    assert service_label({"available": True, "count": 0, "last_date": None}) == "ada, kosong"
    assert service_label({"available": False, "count": None, "last_date": None}) == "tidak ada"
    assert service_label(None) == "belum terbaca"
