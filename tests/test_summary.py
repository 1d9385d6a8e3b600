"""The kecamatan summary table on a real SQLite file and a real PostgreSQL: after every kind
of write (polls, the scoring run, integrity findings, yardsticks, config edits that add,
remove and move villages, plain SQL) the stored rows equal a fresh count of the villages,
and the pages read them without counting (no kecamatan left marked)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update

from aggregator.clock import wib_day
from aggregator.decide.schedule import decide
from aggregator.integrity.watch import FindingReport, IntegrityReport
from aggregator.models import KecamatanDirty, KecamatanSummary, Village
from aggregator.settings import Settings, parse_config
from aggregator.store import Store
from aggregator.store.history import History, history_query
from aggregator.types import Harvest, ParsedItem, PollOutcome

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
WIB = timezone(timedelta(hours=7))
VILLAGES = {
    "33.03.01": [
        ("2001", "Kedungbenda", True), ("2002", "Bokol", False), ("2003", "Pegandekan", True)
    ],
    "33.03.02": [("2001", "Bajong", True), ("2002", "Kutawis", True)],
    "33.03.03": [("2001", "Kalikajar", False)],
}  # fmt: skip
NAMES = {"33.03.01": "Kemangkon", "33.03.02": "Bukateja", "33.03.03": "Kejobong"}


def config(villages: dict[str, list[tuple[str, str, bool]]]) -> str:
    lines = ['kabupaten: {code: "33.03", name: Purbalingga}', "kecamatan:"]
    for kec, rows in villages.items():
        lines += [f'  - code: "{kec}"', f"    name: {NAMES[kec]}", "    villages:"]
        for code, name, site in rows:
            url = f"http://{name.lower()}.example/" if site else ""
            lines.append(f'      - {{code: "{kec}.{code}", name: {name}, url: "{url}"}}')
    return "\n".join(lines) + "\n"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/s.db"
    else:
        url = os.environ.get("SIPANDE_TEST_POSTGRES_URL", "")
        if not url:
            pytest.skip("SIPANDE_TEST_POSTGRES_URL not set (.ci/run sets it)")
        wipe = Store(url)
        with wipe.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        wipe.close()
    store = Store(url, Settings())
    store.migrate()
    store.sync_config(parse_config(config(VILLAGES)), NOW)
    yield store
    store.close()


def marked(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(KecamatanDirty)).scalar_one())


def recounted(store: Store) -> dict[str, Any]:
    """The summary as a full count of the villages gives it (every stored row dropped and
    every kecamatan marked, so the read counts everything live); the rows are restored."""
    with store.engine.begin() as conn:
        conn.execute(delete(KecamatanSummary))
        codes = conn.execute(select(Village.kecamatan_code).distinct()).scalars().all()
        conn.execute(KecamatanDirty.__table__.insert(), [{"kecamatan_code": c} for c in codes])  # type: ignore[attr-defined]
    counted = store.kecamatan_summary()
    assert store.refresh_summary() == len(codes)
    return counted


def assert_current(store: Store) -> dict[str, Any]:
    """The stored summary is what a count gives, and it is read without counting."""
    assert marked(store) == 0
    stored = store.kecamatan_summary()
    assert stored == recounted(store)
    assert marked(store) == 0
    return stored


def by_code(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["code"]: k for k in summary["kecamatan"]}


def poll(store: Store, code: str, at: datetime, *, ok: bool = True, items: int = 1) -> None:
    village = store.due_villages(at, codes=[code], all_villages=True)[0]
    posts = tuple(
        ParsedItem(
            title=f"Berita {code} {n}",
            url=f"{village.url}artikel/{n}",
            guid=f"{village.url}artikel/{n}",
            published_at=(at - timedelta(days=n + 1)).astimezone(WIB),
            summary="Isi",
            content_hash=f"{n:064d}",
        )
        for n in range(items)
    )
    outcome = PollOutcome(
        code, at, 120, ok,
        phase=None if ok else "connect", message=None if ok else "refused",
        harvest=Harvest("opensid", "24.10", f"{village.url}feed", items=posts) if ok else None,
    )  # fmt: skip
    store.record_poll(outcome, decide(village, outcome, store.settings))


def test_the_summary_is_filled_at_sync_and_read_without_counting(any_store: Store) -> None:
    summary = assert_current(any_store)
    kec = by_code(summary)
    assert kec["33.03.01"]["villages"] == 3 and kec["33.03.01"]["with_site"] == 2
    assert kec["33.03.01"]["counts"]["no_site"] == 1
    assert kec["33.03.03"]["with_site"] == 0
    assert summary["kabupaten"]["villages"] == 6
    with any_store.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(KecamatanSummary)).scalar_one()
    assert rows == 3


def test_polls_scoring_and_findings_keep_it_current(any_store: Store) -> None:
    poll(any_store, "33.03.01.2001", NOW, items=3)
    poll(any_store, "33.03.02.2001", NOW, items=1)
    kec = by_code(assert_current(any_store))
    assert kec["33.03.01"]["counts"]["active"] == 1
    assert kec["33.03.01"]["last_post_at"] is not None
    for hours in (1, 2, 3, 4):  # failing polls: unreachable
        poll(any_store, "33.03.02.2002", NOW + timedelta(hours=hours), ok=False)
    kec = by_code(assert_current(any_store))
    assert kec["33.03.02"]["counts"]["unreachable"] == 1

    any_store.score_all(NOW + timedelta(hours=5))
    summary = assert_current(any_store)
    assert summary["kabupaten"]["mean_score"] is not None
    assert summary["kabupaten"]["mean_score"] > 0

    home = FindingReport("judi_online", "compromised", "home", "http://bajong.example/", 80, ("x",))
    any_store.record_integrity(
        "33.03.02.2001", IntegrityReport("compromised", 0, (home,), (), 7), NOW
    )
    kec = by_code(assert_current(any_store))
    assert kec["33.03.02"]["counts"]["compromised"] == 1

    any_store.refresh_statuses(NOW + timedelta(days=60))  # time alone: active -> quiet
    kec = by_code(assert_current(any_store))
    assert kec["33.03.01"]["counts"]["active"] == 0


def test_config_edits_add_remove_and_move_villages(any_store: Store) -> None:
    poll(any_store, "33.03.02.2002", NOW, items=2)
    edited = {
        "33.03.01": [("2001", "Kedungbenda", True), ("2004", "Senon", True)],  # 2 gone, 1 new
        # Kutawis moves to Kejobong (a new code there), Bajong stays.
        "33.03.02": [("2001", "Bajong", True)],
        "33.03.03": [("2001", "Kalikajar", False), ("2002", "Kutawis", True)],
    }
    any_store.sync_config(parse_config(config(edited)), NOW + timedelta(hours=1))
    kec = by_code(assert_current(any_store))
    assert kec["33.03.01"]["villages"] == 2 and kec["33.03.01"]["counts"]["no_site"] == 0
    assert kec["33.03.02"]["villages"] == 1 and kec["33.03.02"]["last_post_at"] is None
    assert kec["33.03.03"]["villages"] == 2

    # A kecamatan dropped from the file: gone from the summary and from the total.
    del edited["33.03.03"]
    any_store.sync_config(parse_config(config(edited)), NOW + timedelta(hours=2))
    summary = assert_current(any_store)
    assert set(by_code(summary)) == {"33.03.01", "33.03.02"}
    assert summary["kabupaten"]["villages"] == 3

    # And back again: its villages are counted again.
    any_store.sync_config(parse_config(config(VILLAGES)), NOW + timedelta(hours=3))
    assert assert_current(any_store)["kabupaten"]["villages"] == 6


def test_any_write_marks_its_kecamatan_and_readers_count_it_until_refreshed(
    any_store: Store,
) -> None:
    """A write path that does not refresh (plain SQL here) still shows on the next read."""
    with any_store.engine.begin() as conn:
        conn.execute(
            update(Village).where(Village.code == "33.03.02.2001").values(status="compromised")
        )
        # Columns the summary does not read leave no mark.
        conn.execute(update(Village).values(next_check_at=NOW, consecutive_ok=3))
    assert marked(any_store) == 1
    kec = by_code(any_store.kecamatan_summary())
    assert kec["33.03.02"]["counts"]["compromised"] == 1
    assert any_store.refresh_summary() == 1
    assert by_code(assert_current(any_store))["33.03.02"]["counts"]["compromised"] == 1
    with any_store.engine.begin() as conn:
        conn.execute(delete(Village).where(Village.code == "33.03.03.2001"))
    assert by_code(any_store.kecamatan_summary())["33.03.03"]["villages"] == 0
    any_store.refresh_summary()
    assert by_code(assert_current(any_store))["33.03.03"]["villages"] == 0


def test_the_kabupaten_trend_follows_scoring_config_and_pruning(any_store: Store) -> None:
    """The stored day totals equal the kecamatan roll-ups summed now, after each write."""
    first = wib_day(NOW) - timedelta(days=10)

    def summed() -> list[dict[str, Any]]:
        with any_store.engine.connect() as conn:
            rows = conn.execute(history_query(conn.dialect.name, first)).all()
        return sorted((History._history_entry(r) for r in rows), key=lambda e: e["day"])

    poll(any_store, "33.03.01.2001", NOW, items=2)
    any_store.score_all(NOW)
    any_store.score_all(NOW + timedelta(days=1))
    any_store.score_all(NOW + timedelta(days=1, hours=2))  # today's roll-ups rewritten
    trend = any_store.district_history(first)
    assert trend == summed() and len(trend) == 2
    assert trend[-1]["villages"] == 6 and trend[-1]["counts"]["active"] == 1
    assert trend[-1]["mean_score"] is not None

    edited = {k: v for k, v in VILLAGES.items() if k != "33.03.03"}
    any_store.sync_config(parse_config(config(edited)), NOW + timedelta(days=1, hours=3))
    trend = any_store.district_history(first)
    assert trend == summed() and [t["villages"] for t in trend] == [5, 5]

    any_store.prune_history(NOW + timedelta(days=any_store.settings.keep_history_days, hours=20))
    assert [t["day"] for t in any_store.district_history(first)] == [t["day"] for t in summed()]
    assert len(summed()) == 1


def test_the_paged_kecamatan_table_sorts_worst_first_and_searches() -> None:
    """Past KEC_PAGE kecamatan the overview's table is sorted worst first (compromised,
    unreachable, inactive, low activity; ties by code) and filtered by name or code prefix:
    checked against a sort of the same rows by their rolled counts."""
    import random

    from aggregator.decide.status import ATTENTION_STATUSES, STATUSES
    from aggregator.store.summary import KecamatanRow
    from aggregator.web.overview import KEC_PAGE, kecamatan_table

    rnd = random.Random(5)
    rows = []
    for k in range(1, 3 * KEC_PAGE):
        counts = [rnd.choice([0, 0, 1, 2]) for _ in STATUSES]
        group = (sum(counts), sum(counts), 0, *counts, 0.0, 0, 0.0, 0, 0.0, 0, None)
        rows.append(KecamatanRow(f"33.{k // 100:02d}.{k % 100:02d}", f"Kec {k}", group))

    def worst(row: KecamatanRow) -> tuple[Any, ...]:
        return (*(-row["counts"][s] for s in ATTENTION_STATUSES), row["code"])

    expected = sorted(rows, key=worst)
    shown = [r.code for p in (1, 2, 3) for r in kecamatan_table(rows, page=p)["rows"]]
    assert shown == [r.code for r in expected]
    assert [r.code for r in rows] == sorted(r.code for r in rows)  # the input is left alone
    found = kecamatan_table(rows, search="kec 1")
    assert [r.code for r in found["rows"]] == [
        r.code for r in expected if r.name.casefold().startswith("kec 1")
    ][:KEC_PAGE]
    assert found["matched"] == sum(1 for r in rows if r.name.startswith("Kec 1"))
    assert [r.code for r in kecamatan_table(rows, search="33.01", sort="kode")["rows"]] == [
        r.code for r in rows if r.code.startswith("33.01")
    ]


def _many_kecamatan(count: int) -> str:
    """A config of `count` kecamatan (the last without villages), 1-3 villages each."""
    lines = ['kabupaten: {code: "33.03", name: Purbalingga}', "kecamatan:"]
    for k in range(1, count + 1):
        name = f"Kec {k}" if k % 3 else f"KEC Besar {k}"
        lines += [f'  - code: "33.03.{k:02d}"', f'    name: "{name}"']
        if k == count:
            lines.append("    villages: []")
            continue
        lines.append("    villages:")
        for n in range(1 + k % 3):
            url = f"http://d{k}-{n}.example/" if (k + n) % 4 else ""
            code = f"33.03.{k:02d}.20{n:02d}"
            lines.append(f'      - {{code: "{code}", name: D{k}n{n}, url: "{url}"}}')
    return "\n".join(lines) + "\n"


def test_the_overview_pages_kecamatan_in_the_database_as_it_would_in_python(
    any_store: Store,
) -> None:
    """Past KEC_PAGE kecamatan the overview's table and totals come from the database
    (Summary.kecamatan_page, kabupaten_totals). Every page, sort and search gives the rows
    the Python table gives over every kecamatan's row, with some kecamatan still marked
    (counted live) and some stored."""
    import random

    from aggregator.decide.status import STATUSES
    from aggregator.web.overview import KEC_PAGE, kecamatan_page_table, kecamatan_table

    store = any_store
    store.sync_config(parse_config(_many_kecamatan(KEC_PAGE + 22)), NOW)
    rnd = random.Random(11)
    with store.engine.begin() as conn:
        for (code,) in conn.execute(select(Village.code)).all():
            conn.execute(
                update(Village)
                .where(Village.code == code)
                .values(status=rnd.choice(STATUSES), score=rnd.choice([None, 10.0, 55.5]))
            )
    store.refresh_summary()
    with store.engine.begin() as conn:  # later writes: their kecamatan stay marked
        conn.execute(
            update(Village)
            .where(Village.code.startswith("33.03.1"))  # type: ignore[attr-defined]
            .values(status="compromised")
        )
    assert marked(store) > 0
    rows, total = store.kecamatan_summary_rows()
    assert len(rows) == KEC_PAGE + 22
    totals = store.kabupaten_totals()
    assert {k: totals[k] for k in total} == total
    assert totals["kecamatan"] == len(rows) and totals["kabupaten"] == {"33.03"}
    for search in ("", "kec 1", "besar", "33.03.0", "zzz", "50%"):
        for sort in ("kode", "nama", "masalah"):
            expected = kecamatan_table(rows, search=search, sort=sort, page=1)
            for page in range(1, expected["pages"] + 2):
                want = kecamatan_table(rows, search=search, sort=sort, page=page)
                got = kecamatan_page_table(store, len(rows), search, sort, page)
                assert {k: got[k] for k in want if k != "rows"} == {
                    k: want[k] for k in want if k != "rows"
                }, (search, sort, page)
                assert [r.as_dict() for r in got["rows"]] == [r.as_dict() for r in want["rows"]]


def test_the_attention_list_ranks_each_status_in_its_documented_order(any_store: Store) -> None:
    """Attention pages, whatever their size, list compromised villages (most open findings
    first), unreachable (failing longest first), inactive and low activity (silent longest
    first, never posted first); ties by lower score, then code: checked against that order
    computed from the village and finding rows."""
    import random

    from aggregator.decide.status import ATTENTION_STATUSES
    from aggregator.models import Finding

    store = any_store
    store.sync_config(parse_config(_many_kecamatan(40)), NOW)
    rnd = random.Random(4)
    with store.engine.begin() as conn:
        for (code,) in conn.execute(select(Village.code)).all():
            at = [None, NOW - timedelta(days=rnd.choice([1, 2, 40]))]
            conn.execute(
                update(Village)
                .where(Village.code == code)
                .values(
                    status=rnd.choice([*ATTENTION_STATUSES, "active"]),
                    score=rnd.choice([None, 10.0, 20.0]),
                    failing_since=rnd.choice(at),
                    last_post_at=rnd.choice(at),
                )
            )
            for status in rnd.choice([[], ["open"], ["open", "open"], ["resolved"]]):
                conn.execute(
                    Finding.__table__.insert().values(  # type: ignore[attr-defined]
                        village_code=code, kind=f"k{rnd.random()}", status=status,
                        level="compromised", first_seen=NOW, last_seen=NOW,
                    )
                )  # fmt: skip
    store.refresh_summary()
    with store.engine.connect() as conn:
        villages = conn.execute(
            select(
                Village.code, Village.status, Village.score,
                Village.failing_since, Village.last_post_at,
            ).where(Village.in_config)  # type: ignore[arg-type]
        ).all()  # fmt: skip
        findings = conn.execute(
            select(Finding.village_code, func.count())
            .where(Finding.status == "open")
            .group_by(Finding.village_code)
        ).all()
    opened = dict(findings)
    far = datetime.max.replace(tzinfo=UTC)

    def key(v: Any) -> tuple[Any, ...]:
        rank = ATTENTION_STATUSES.index(v.status)
        if v.status == "compromised":
            first: Any = -opened.get(v.code, 0)
        else:
            when = v.failing_since if v.status == "unreachable" else v.last_post_at
            first = (1, when) if when is not None else (0, far)
        return (rank, first, v.score or 0.0, v.code)

    listed = [v for v in villages if v.status in ATTENTION_STATUSES]
    expected = [v.code for v in sorted(listed, key=key)]
    assert len(expected) > 30
    everything, total = store.attention_villages()
    assert total == len(expected)
    assert [v["code"] for v in everything] == expected
    for size in (7, 25):
        pages = [
            store.attention_villages(offset=start, limit=size)[0] for start in range(0, total, size)
        ]
        assert [v["code"] for page in pages for v in page] == expected
    assert all(v["open_findings"] == opened.get(v["code"], 0) for v in everything)
