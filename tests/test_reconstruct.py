"""History from day one (`aggregator.store.reconstruct`, `aggregator.decide.past`): a fleet
with year-old archives polled once shows a year of daily history, marked reconstructed, with
each day's status the status rules applied to that day's archive; measured days win."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from aggregator.cli import finish_pass, poll_once
from aggregator.clock import wib_day, wib_day_start
from aggregator.decide.past import RECONSTRUCT_DAYS, archive_status
from aggregator.decide.schedule import decide
from aggregator.decide.status import RECENT_WINDOW
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.web.app import create_app
from fleet import Fleet
from tests.conftest import LiveServer
from tests.test_poller import FAST


def _polled(tmp_path: Path, url: str | None = None) -> tuple[Store, Fleet, datetime]:
    """A 12-village fleet whose sites post since 400 days, after one `poll --once` pass
    (without the scoring run that follows it: the first poll alone brings the history)."""

    async def main() -> tuple[Store, Fleet, datetime]:
        async with Fleet.from_district(12, seed=3, history_days=400) as fleet:
            config = parse_config(fleet.config_yaml(settings=FAST), "fleet.yaml")
            store = Store(url or f"sqlite:///{tmp_path}/h.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            await poll_once(config, store)
            return store, fleet, datetime.now(UTC)

    return asyncio.run(main())


def _expected(store: Store, code: str, day: Any) -> str:
    """The status rules applied to that day's facts, from the stored news: the newest post
    before the day's end."""
    at = wib_day_start(day + timedelta(days=1))
    dates = [n["published_at"] for n in store.news(village=code, limit=1000)]
    past = [datetime.fromisoformat(d) for d in dates if d and datetime.fromisoformat(d) < at]
    return archive_status(max(past, default=None), at, store.settings)


def _posts_30d(store: Store, code: str, day: Any) -> int:
    at = wib_day_start(day + timedelta(days=1))
    dates = [
        datetime.fromisoformat(n["published_at"]) for n in store.news(village=code, limit=1000)
    ]
    return sum(1 for d in dates if at - RECENT_WINDOW <= d < at)


def check_year(store: Store, fleet: Fleet, now: datetime) -> None:
    today = wib_day(now)
    behaviours = {v.code: v.behaviour for v in fleet.villages}
    kec = {v.code: v.kecamatan_code for v in fleet.villages}
    app = create_app(store.settings, store=store, run_scheduler=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=20) as c:
        sampled = 0
        for code, behaviour in behaviours.items():
            if behaviour not in ("active", "quiet", "abandoned"):
                continue
            rows = c.get(f"/api/villages/{code}/history?days={RECONSTRUCT_DAYS + 1}").json()
            days = [r["day"] for r in rows]
            if behaviour != "abandoned":  # their archives start 400 days ago: a whole year
                assert days[0] == (today - timedelta(days=RECONSTRUCT_DAYS)).isoformat()
                assert len(rows) == RECONSTRUCT_DAYS, (code, len(rows))
            assert all(r["reconstructed"] for r in rows), code
            assert days[-1] == (today - timedelta(days=1)).isoformat()
            # Availability and services are unknown for past days: left out of the score.
            assert all(set(r["components"]) == {"freshness", "cadence"} for r in rows)
            by_day = {r["day"]: r for r in rows}
            for back in (1, 17, 45, 100, 180, 250, 364):
                day = today - timedelta(days=back)
                if day.isoformat() not in by_day:
                    continue
                row = by_day[day.isoformat()]
                assert row["status"] == _expected(store, code, day), (code, behaviour, day)
                cadence = _posts_30d(store, code, day)
                assert (row["components"]["cadence"] > 0) == (cadence > 0)
                sampled += 1
            statuses = {r["status"] for r in rows}
            if behaviour == "abandoned":
                assert statuses == {"inactive"} or "inactive" in statuses
        assert sampled >= 20
        # The kecamatan trend shows the year too, marked reconstructed.
        some = next(k for code, k in kec.items() if behaviours[code] == "active")
        trend = c.get(f"/api/kecamatan/{some}/history?days={RECONSTRUCT_DAYS + 1}").json()
        assert len(trend) == RECONSTRUCT_DAYS and all(t["reconstructed"] for t in trend)
        members = [code for code, k in kec.items() if k == some]
        for t in trend[::30]:
            assert t["villages"] == len(members)
            assert sum(t["counts"].values()) <= len(members)
        # The kabupaten's day totals are summed by the scoring run, which `poll --once` ends
        # with (finish_pass); today's row is then measured, the year before reconstructed.
        store.score_all(datetime.now(UTC))
        district = [
            d
            for d in store.district_history(today - timedelta(days=RECONSTRUCT_DAYS))
            if d["day"] < today.isoformat()
        ]
        assert len(district) == RECONSTRUCT_DAYS and all(d["reconstructed"] for d in district)
        active_per_day = [d["counts"]["active"] for d in district]
        assert len(set(active_per_day)) > 1  # a lived year, not a flat line
        # The pages offer the year; their charts and tables mark the reconstructed days, with
        # a legend note in Bahasa Indonesia.
        village = next(code for code in members if behaviours[code] == "active")
        page = c.get(f"/desa/{village}?periode=365").text
        assert "direkonstruksi" in page and 'href="/desa/' in page
        assert page.count("<td>rekonstruksi</td>") == RECONSTRUCT_DAYS - 1  # today not shown
        assert "?periode=365" in c.get(f"/desa/{village}").text  # the link to the year
        trend_page = c.get(f"/?kecamatan={some}&periode=365").text
        assert "365 hari terakhir" in trend_page and "Pucat/putus-putus" in trend_page
        assert trend_page.count("*</th>") == 2 * (RECONSTRUCT_DAYS - 1)  # both tables


def test_first_poll_reconstructs_a_year_and_measured_days_win(tmp_path: Path) -> None:
    store, fleet, now = _polled(tmp_path)
    check_year(store, fleet, now)
    today = wib_day(now)
    code = next(v.code for v in fleet.villages if v.behaviour == "active")
    kec = next(v.kecamatan_code for v in fleet.villages if v.code == code)

    # The scoring run measures today; the reconstructed past stays.
    finish_pass(store)
    rows = store.village_history(code, RECONSTRUCT_DAYS + 1, now)
    assert rows[-1]["day"] == today.isoformat() and rows[-1]["reconstructed"] is False
    assert all(r["reconstructed"] for r in rows[:-1]) and len(rows) == RECONSTRUCT_DAYS + 1
    assert set(rows[-1]["components"]) >= {"availability", "services"}

    # A measured snapshot of a reconstructed day replaces it...
    yesterday = today - timedelta(days=1)
    store.score_all(wib_day_start(yesterday) + timedelta(hours=12))
    row = store.village_history(code, 2, now)[0]
    assert row["day"] == yesterday.isoformat() and row["reconstructed"] is False
    assert store.kecamatan_history(kec, 2, now)[0]["reconstructed"] is False
    # ...and a reconstruction never overwrites a measured day (village or kecamatan).
    store.reconstruct_history([v.code for v in fleet.villages], now)
    assert store.village_history(code, 2, now)[0]["reconstructed"] is False
    assert store.kecamatan_history(kec, 2, now)[0]["reconstructed"] is False
    assert store.village_history(code, 3, now)[0]["reconstructed"] is True
    store.close()


def test_reconstruction_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """The archive's WIB days are grouped in SQL, differently on each database."""
    from tests.test_worker import _empty

    _empty(pg_url)
    store, fleet, now = _polled(tmp_path, pg_url)
    check_year(store, fleet, now)
    store.close()


def test_past_days_judge_each_day_at_its_end() -> None:
    """One post at 10:00 WIB: active for 30 days after that day's end, counted in the window
    of 30 days, low activity until 90 days, then inactive; days before it are not judged."""
    from aggregator.clock import WIB
    from aggregator.decide.past import ArchiveDay, past_days
    from aggregator.settings import Settings

    settings = Settings()
    posted = datetime(2026, 3, 1, 10, 0, tzinfo=WIB).astimezone(UTC)
    day = wib_day(posted)
    archive = [ArchiveDay(day, 1, posted)]
    judged = {
        p.day: p
        for p in past_days(archive, day - timedelta(days=5), day + timedelta(days=95), settings)
    }
    assert min(judged) == day and len(judged) == 96

    def at(n: int) -> tuple[str, float]:
        p = judged[day + timedelta(days=n)]
        return p.status, p.components["cadence"]

    assert at(0)[0] == "active" and at(0)[1] > 0
    assert at(29)[0] == "active" and at(29)[1] > 0  # still within the 30 days
    assert at(30) == ("low_activity", 0.0)  # 30 days and 14 hours after the post
    assert at(89)[0] == "low_activity" and at(90)[0] == "inactive"
    assert judged[day].score > judged[day + timedelta(days=40)].score > 0
    assert set(judged[day].components) == {"freshness", "cadence"}


def test_days_scored_once_score_as_scoring_says() -> None:
    """Days alike are scored once: every day's score equals scoring's own on its facts."""
    import random

    from aggregator.decide.past import ArchiveDay, day_facts, past_days
    from aggregator.decide.scoring import score_village
    from aggregator.settings import Settings

    settings, rng = Settings(), random.Random(5)
    start = datetime(2025, 6, 1, 3, tzinfo=UTC)
    moments = sorted(start + timedelta(days=rng.uniform(0, 200)) for _ in range(60))
    archive: list[ArchiveDay] = []
    for m in moments:  # a busy spring, then silence
        if archive and archive[-1].day == wib_day(m):
            last = archive[-1]
            archive[-1] = ArchiveDay(last.day, last.posts + 1, m)
        else:
            archive.append(ArchiveDay(wib_day(m), 1, m))
    first, last = wib_day(start), wib_day(start) + timedelta(days=360)
    for p in past_days(archive, first, last, settings):
        at = wib_day_start(p.day + timedelta(days=1))
        newest = max((m for m in moments if m < at), default=None)
        posts = sum(1 for m in moments if at - RECENT_WINDOW <= m < at)
        expected = score_village(day_facts(newest, posts, at), settings.scoring)
        assert p.score == expected.score, p.day
        assert p.components == {c.key: c.points for c in expected.components if c.value is not None}


def test_a_kecamatan_s_past_is_built_once_its_last_village_is_first_polled(
    tmp_path: Path,
) -> None:
    """The kecamatan's reconstructed year waits for the first poll of its last village with
    a site (a first pass no longer rebuilds it for every batch), then counts them all; a
    village without a site is never polled and does not hold it back."""
    from tests.test_writer import _ok, _store

    store, (a, b, _c) = _store(tmp_path, 3)
    now = datetime.now(UTC)
    with store.engine.begin() as conn:  # the third village has no site
        conn.exec_driver_sql("UPDATE village SET url = '' WHERE code = ?", (_c.code,))
    kec = "33.03.01"

    def first_poll(village: Any, title: str) -> None:
        outcome = replace(_ok(village, title), started_at=now)
        for_item = outcome.harvest.items[0]
        old = replace(for_item, published_at=now - timedelta(days=200))
        harvest = replace(outcome.harvest, items=(old,))
        outcome = replace(outcome, harvest=harvest)
        first: list[str] = []
        store.record_polls([(outcome, decide(village, outcome, store.settings))], first)
        assert first == [village.code]
        assert store.reconstruct_history(first, now) > 0  # the village's own year

    first_poll(a, "satu")
    assert store.kecamatan_history(kec, RECONSTRUCT_DAYS, now) == []  # b is still to come
    first_poll(b, "dua")
    trend = store.kecamatan_history(kec, RECONSTRUCT_DAYS, now)
    assert trend and all(t["reconstructed"] for t in trend)
    day = next(t for t in trend if t["day"] == wib_day(now - timedelta(days=100)).isoformat())
    assert day["villages"] == 3 and day["counts"]["no_site"] == 1
    assert sum(day["counts"].values()) == 3  # both polled villages are in it
    store.close()
