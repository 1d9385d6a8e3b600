"""The poller's batching writer and `Store.record_polls` on a real SQLite file."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from aggregator.decide.schedule import decide
from aggregator.poll.writer import BatchWriter
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.types import Harvest, ParsedItem, PollOutcome, VillageForPoll

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def _store(tmp_path: Path, n: int) -> tuple[Store, list[VillageForPoll]]:
    villages = ", ".join(
        f'{{code: "33.03.01.{2001 + i}", name: D{i}, url: "https://d{i}.desa.id/"}}'
        for i in range(n)
    )
    config = parse_config(
        'kabupaten: {code: "33.03", name: P}\n'
        f'kecamatan:\n  - {{code: "33.03.01", name: K, villages: [{villages}]}}\n'
    )
    store = Store(f"sqlite:///{tmp_path}/w.db", config.settings)
    store.migrate()
    store.sync_config(config, NOW)
    return store, store.due_villages(NOW, all_villages=True)


def _ok(village: VillageForPoll, title: str) -> PollOutcome:
    item = ParsedItem(
        title=title,
        url=f"{village.url}artikel/{title}",
        guid=None,
        published_at=NOW - timedelta(days=1),
        summary="Kegiatan warga",
        content_hash=title.ljust(64, "0"),
    )
    harvest = Harvest(platform="feed", items=(item,))
    return PollOutcome(village.code, NOW, 120, True, harvest=harvest, status_code=200)


def test_a_bad_row_costs_only_its_own_poll(tmp_path: Path) -> None:
    store, (a, b, c) = _store(tmp_path, 3)
    settings = store.settings
    # SQLite cannot hold this integer: the whole batch fails, then each poll is retried alone.
    poisoned = replace(_ok(b, "racun"), status_code=2**70)
    batch = [(o, decide(v, o, settings)) for v, o in ((a, _ok(a, "satu")), (b, poisoned),
                                                       (c, _ok(c, "tiga")))]  # fmt: skip
    results = store.record_polls(batch)
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], OverflowError)
    rows = {v["code"]: v for v in store.list_villages()}
    assert rows[a.code]["news_count"] == 1 and rows[c.code]["news_count"] == 1
    assert rows[b.code]["news_count"] == 0 and rows[b.code]["last_checked_at"] is None
    assert [n["title"] for n in store.news(village=a.code)] == ["satu"]
    store.close()


def test_concurrent_polls_are_written_in_few_transactions_and_none_lost(tmp_path: Path) -> None:
    store, villages = _store(tmp_path, 60)

    async def main() -> list[int]:
        writer = BatchWriter(store, max_batch=25)
        outcomes = [_ok(v, f"berita-{i}") for i, v in enumerate(villages)]
        got = await asyncio.gather(
            *(
                writer.write(o, decide(v, o, store.settings))
                for v, o in zip(villages, outcomes, strict=True)
            )
        )
        # All 60 are queued before the writer first runs: batches of 25, 25 and 10.
        assert writer.batches == 3
        return list(got)

    assert asyncio.run(main()) == [1] * 60
    assert sum(v["news_count"] for v in store.list_villages()) == 60
    assert len(store.news(limit=100)) == 60
    store.close()


def test_first_polls_linger_into_shared_batches_steady_ones_do_not(tmp_path: Path) -> None:
    """Ten polls finishing 0.1 s apart: as first polls (a first pass) they wait for each
    other and share a few transactions; as steady polls each is written within its 0.05 s
    linger, on its own."""
    store, villages = _store(tmp_path, 20)

    async def pace(writer: BatchWriter, group: list[VillageForPoll], first: bool) -> None:
        async def one(i: int, v: VillageForPoll) -> int:
            await asyncio.sleep(0.1 * i)
            o = _ok(v, f"berita-{i}")
            return await writer.write(o, decide(v, o, store.settings), first=first)

        assert await asyncio.gather(*(one(i, v) for i, v in enumerate(group))) == [1] * 10

    async def main() -> tuple[int, int]:
        first, steady = BatchWriter(store), BatchWriter(store)
        await pace(first, villages[:10], True)
        await pace(steady, villages[10:], False)
        return first.batches, steady.batches

    first_batches, steady_batches = asyncio.run(main())
    assert first_batches <= 4 and steady_batches >= 7, (first_batches, steady_batches)
    assert sum(v["news_count"] for v in store.list_villages()) == 20
    store.close()


def test_unchanged_poll_keeps_counts_and_a_changed_one_recounts(tmp_path: Path) -> None:
    """A poll that brought nothing new skips the recount; the counts stay right."""
    store, (v,) = _store(tmp_path, 1)
    first = _ok(v, "satu")
    store.record_poll(first, decide(v, first, store.settings))
    (v,) = store.due_villages(NOW, all_villages=True)
    assert v.last_duration_ms == 120  # the dispatcher starts slow sites first
    later = replace(first, started_at=NOW + timedelta(hours=1), harvest=Harvest(platform="feed"))
    assert store.record_poll(later, decide(v, later, store.settings)) == 0
    (row,) = store.list_villages()
    assert row["news_count"] == 1 and row["status"] == "active"
    store.close()


def test_counts_added_for_new_items_equal_a_full_recount(tmp_path: Path) -> None:
    """A poll that only adds items updates the counts without counting again; they must
    be what a recount gives: spam, future-dated and month-old posts included."""
    store, (v,) = _store(tmp_path, 1)
    first = _ok(v, "satu")
    store.record_poll(first, decide(v, first, store.settings))
    (v,) = store.due_villages(NOW, all_villages=True)

    def item(title: str, days_ago: float, spam: bool = False) -> ParsedItem:
        return replace(
            first.harvest.items[0],  # type: ignore[union-attr]
            title=title,
            url=f"{v.url}artikel/{title}",
            published_at=NOW - timedelta(days=days_ago),
            content_hash=title.ljust(64, "1"),
            spam=spam,
        )

    added = (item("baru", 0.5), item("lama", 45), item("judi", 0.1, spam=True),
             item("besok", -3), item("lusa", -0.5))  # fmt: skip
    later = replace(first, started_at=NOW + timedelta(hours=2),
                    harvest=Harvest(platform="feed", items=added))  # fmt: skip
    assert store.record_poll(later, decide(v, later, store.settings)) == 5
    (incremental,) = store.list_villages()
    store.refresh_statuses(NOW + timedelta(hours=2))  # counts everything again
    (recounted,) = store.list_villages()
    keys = ("news_count", "posts_30d", "last_post_at", "status")
    assert {k: incremental[k] for k in keys} == {k: recounted[k] for k in keys}
    assert incremental["news_count"] == 6 and incremental["posts_30d"] == 3
    store.close()


def test_a_village_is_scored_with_its_first_poll(tmp_path: Path) -> None:
    """No "–" on the overview for a polled village: its first poll brings a status and a
    score, before any scoring run (poll_once alone runs none)."""
    import asyncio

    from aggregator.cli import poll_once
    from fleet import Fleet
    from tests.test_poller import _setup

    async def main() -> None:
        async with Fleet.from_district(12, seed=3) as fleet:
            config, store = _setup(fleet, tmp_path)
            await poll_once(config, store)
            villages = {v["code"]: v for v in store.list_villages()}
            for v in fleet.villages:
                row = villages[v.code]
                if v.behaviour == "no_site":
                    continue
                assert row["score"] is not None, (v.behaviour, row)
                assert row["status"] != "no_site"
            active = [villages[v.code] for v in fleet.villages if v.behaviour == "active"]
            assert active and all(r["status"] == "active" and r["score"] > 0 for r in active)
            store.close()

    asyncio.run(main())


def test_batches_between_summary_refreshes_are_on_the_pages_and_first_polls_reported(
    tmp_path: Path,
) -> None:
    """Back-to-back batches refresh the kecamatan summary at most once a second; the pages
    count a still-marked kecamatan from its villages, so none of them is missing there. The
    batch reports the villages it gave their first poll, and only those."""
    store, (a, b, _c) = _store(tmp_path, 3)
    settings = store.settings
    first: list[str] = []
    store.record_polls([(o := _ok(a, "satu"), decide(a, o, settings))], first)
    store.record_polls([(o := _ok(b, "dua"), decide(b, o, settings))], first)
    again = replace(_ok(a, "lagi"), started_at=NOW + timedelta(minutes=30))
    store.record_polls([(again, decide(a, again, settings))], first)
    assert first == [a.code, b.code]
    with store.engine.connect() as conn:  # the second batch left its mark, not yet refreshed
        marked = conn.execute(text("SELECT count(*) FROM kecamatandirty")).scalar()
    assert marked
    kecamatan = store.kecamatan_summary()["kecamatan"][0]
    assert kecamatan["counts"]["active"] == 2 and kecamatan["counts"]["inactive"] == 1
    rows = {v["code"]: v for v in store.list_villages()}
    assert rows[a.code]["news_count"] == 2 and rows[b.code]["news_count"] == 1
    store.close()


def test_the_due_list_shares_one_copy_of_the_plan_keys(tmp_path: Path) -> None:
    """A pass holds every due village's plan and validators: the keys all villages repeat
    are one string each, not one per village; the values stay each village's own."""
    store, _ = _store(tmp_path, 2)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE village SET plan = :p, validators = :v"),
            {"p": '{"home": "2026-11-20T03:00:00+00:00", "svc:lapak": "x"}',
             "v": '{"https://d.desa.id/feed": {"body": "b1", "items": "f1 f2"}}'},
        )  # fmt: skip
    a, b = store.due_villages(NOW, all_villages=True)
    assert a.plan == b.plan == {"home": "2026-11-20T03:00:00+00:00", "svc:lapak": "x"}
    assert all(ka is kb for ka, kb in zip(a.plan, b.plan, strict=True))
    (feed_a,), (feed_b,) = a.validators.values(), b.validators.values()
    assert all(ka is kb for ka, kb in zip(feed_a, feed_b, strict=True))
    store.close()
