"""The kabupaten Pembinaan list: every village's to-dos from the daily yardstick run plus
what is known live (news cadence, open integrity findings), ranked, filtered by kecamatan and
theme, printable and exportable; one SQL statement per page however many villages."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import event, text
from sqlmodel import Session, col, select

from aggregator.cli import poll_once
from aggregator.decide.scoring import Score
from aggregator.fetch.client import Fetcher
from aggregator.models import Finding, Village, YardstickCheck
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.web import create_app
from aggregator.web.overview import KEC_PAGE
from aggregator.web.pembinaan import PAGE_SIZE
from aggregator.yardsticks import CoachingItem, KipFacts, SecurityFacts, YardstickReport
from aggregator.yardsticks.board import board_page, themes_field
from aggregator.yardsticks.coaching import INTEGRITY_TEXT
from aggregator.yardsticks.job import run_yardsticks
from fleet import Fleet
from tests.conftest import LiveServer
from tests.test_poller import FAST

KINDS = ["opensid-2410-esensi", "opensid-2101-natra", "wordpress", "opensid-2410-esensi"]


@pytest.fixture(scope="module")
def board_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("pembinaan")

    async def fill() -> tuple[Store, list[str]]:
        async with Fleet.of_kinds(KINDS, seed=2) as fleet:
            config = parse_config(fleet.config_yaml(settings=FAST), "fleet.yaml")
            store = Store(f"sqlite:///{tmp}/board.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            await poll_once(config, store)
            async with Fetcher(config.settings) as fetcher:
                await run_yardsticks(store, fetcher, config.settings)
            return store, [v.code for v in fleet.villages]

    store, codes = asyncio.run(fill())
    now = datetime.now(UTC)
    with Session(store.engine) as s:  # an integrity finding opened after the daily run
        s.add(Finding(village_code=codes[2], kind="judi_online", url="http://x/",
                      first_seen=now, last_seen=now))  # fmt: skip
        s.commit()
    yield store, codes
    store.close()


@contextlib.contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements run on the store's engine inside the block."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def test_every_village_ranked_with_stored_and_live_items_in_one_statement(
    board_store: Any,
) -> None:
    store, codes = board_store
    now = datetime.now(UTC)
    with statements(store) as seen:
        page = board_page(store.engine, now)
    assert len(seen) == 1, seen
    got = [v["code"] for v in page.villages]
    assert sorted(got) == sorted(codes) and page.total == len(codes)
    # The village with an open finding is first, and its first to-do is the clean-up.
    assert got[0] == codes[2]
    assert page.villages[0]["items"][0].key == "integrity"
    for v in page.villages:
        stored = [r["text"] for r in store.coaching_rows(village=v["code"])]
        texts = [i.text for i in v["items"]]
        # Every stored to-do is there (the kecamatan list's items), most urgent first.
        assert [t for t in texts if t in stored] == [t for t in stored if t in texts]
        assert set(stored) - {t for t in stored if "konten sisipan" in t} <= set(texts)
        ranks = [i.rank for i in v["items"]]
        assert ranks == sorted(ranks)


def test_filters_and_paging(board_store: Any) -> None:
    store, codes = board_store
    now = datetime.now(UTC)
    integrity = board_page(store.engine, now, theme="integritas")
    assert [v["code"] for v in integrity.villages] == [codes[2]]
    assert [i.key for i in integrity.villages[0]["items"]] == ["integrity"]
    security = board_page(store.engine, now, theme="keamanan")
    assert security.total == len(codes)  # the fleet serves plain http: every one has HTTPS
    assert all(i.theme == "keamanan" for v in security.villages for i in v["items"])
    kip = board_page(store.engine, now, theme="keterbukaan")
    assert all(i.theme == "keterbukaan" for v in kip.villages for i in v["items"])
    for v in kip.villages:
        assert v["items"], v["code"]  # listed only with a KIP to-do
    kec = store.village_detail(codes[0])["kecamatan_code"]
    one = board_page(store.engine, now, kecamatan=kec)
    assert {v["kecamatan_code"] for v in one.villages} == {kec}
    assert 0 < one.total < len(codes)
    kabupaten = board_page(store.engine, now, kecamatan=kec.rsplit(".", 1)[0])
    assert kabupaten.total == len(codes)  # a kabupaten's code takes in all its kecamatan
    assert board_page(store.engine, now, kecamatan=kec[:4]).total == 0  # whole segments only
    first = board_page(store.engine, now, limit=2)
    second = board_page(store.engine, now, offset=2, limit=2)
    everything = board_page(store.engine, now)
    assert first.total == second.total == len(codes)
    assert [v["code"] for v in first.villages + second.villages] == [
        v["code"] for v in everything.villages
    ][:4]


def test_page_print_view_and_exports(board_store: Any) -> None:
    store, codes = board_store
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        home = httpx.get(f"{srv.url}/").text
        assert 'href="/pembinaan"' in home
        assert 'id="mulai"' not in home  # every village has its address: nothing to start
        page = httpx.get(f"{srv.url}/pembinaan")
        assert page.status_code == 200 and "Daftar pembinaan seluruh kabupaten" in page.text
        assert page.text.index(f'data-village="{codes[2]}"') < page.text.index(
            f'data-village="{codes[0]}"'
        )
        assert "?cetak=1" in page.text
        printed = httpx.get(f"{srv.url}/pembinaan?cetak=1").text
        assert 'class="print-view"' in printed and "Dicetak dari Sipande" in printed
        filtered = httpx.get(f"{srv.url}/pembinaan", params={"tema": "integritas"}).text
        assert filtered.count('class="coaching-village"') == 1
        assert "/pembinaan.csv?tema=integritas" in filtered
        xlsx = httpx.get(f"{srv.url}/pembinaan.xlsx").content
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
        rows = [r for r in sheet.iter_rows(values_only=True) if any(r)]
        assert rows[0][:3] == ("Kode wilayah", "Desa/Kelurahan", "Kecamatan")
        board = board_page(store.engine, datetime.now(UTC))
        assert len(rows) - 1 == sum(len(v["items"]) for v in board.villages)
        assert rows[1][0] == codes[2] and rows[1][4] == "Keamanan Digital"
        csv_text = httpx.get(f"{srv.url}/pembinaan.csv?tema=integritas").content.decode("utf-8-sig")
        lines = csv_text.strip().splitlines()
        assert len(lines) == 2 and codes[2] in lines[1]


def test_no_site_villages_are_coached_to_make_one(tmp_path: Path) -> None:
    text = Path("config/districts.yaml").read_text(encoding="utf-8")
    config = parse_config(text, "districts.yaml")
    store = Store(f"sqlite:///{tmp_path}/shipped.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    with statements(store) as seen:
        page = board_page(store.engine, datetime.now(UTC), limit=50)
    assert len(seen) == 1
    assert page.total == len(config.villages) == 239 and len(page.villages) == 50
    assert all([i.key for i in v["items"]] == ["no_site"] for v in page.villages)
    assert board_page(store.engine, datetime.now(UTC), theme="keamanan").total == 0
    store.close()


def test_the_one_statement_runs_on_postgresql(pg_url: str) -> None:
    from tests.test_worker import _empty

    _empty(pg_url)
    config = parse_config(Path("config/districts.yaml").read_text(encoding="utf-8"), "d.yaml")
    store = Store(pg_url, config.settings)
    store.migrate()
    now = datetime.now(UTC)
    store.sync_config(config, now)
    code = config.villages[5].code
    with Session(store.engine) as s:
        s.add(Finding(village_code=code, kind="defacement", first_seen=now, last_seen=now))
        s.commit()
    try:
        assert board_page(store.engine, now, limit=10).total == 239
        assert board_page(store.engine, now, theme="keterbukaan").total == 0
        # A finding on a village without a site: it is coached to make one first.
        assert board_page(store.engine, now, theme="integritas").total == 0
    finally:
        store.close()


# -- paging: every matching village exactly once, in the documented order --------------------

PAGED_KECAMATAN, PAGED_PER_KECAMATAN = 3, 30


def _paged_config() -> str:
    lines = ['kabupaten: {code: "33.03", name: Purbalingga}', "kecamatan:"]
    for k in range(1, PAGED_KECAMATAN + 1):
        lines += [f'  - code: "33.03.{k:02d}"', f"    name: Kec {k}", "    villages:"]
        for i in range(PAGED_PER_KECAMATAN):
            url = "" if i % 11 == 4 else f"http://d{k}x{i}.example/"
            code = f"33.03.{k:02d}.{2001 + i}"
            lines.append(f'      - {{code: "{code}", name: "Desa {k}-{i}", url: "{url}"}}')
    return "\n".join(lines) + "\n"


def _report(rnd: random.Random, at: datetime) -> YardstickReport:
    https = rnd.choice([True, True, False, None])
    security = SecurityFacts(
        has_site=True,
        https_offered=https,
        https_enforced=None,
        cert_problem=rnd.choice([None, None, "expired", "self_signed"]) if https else None,
        cert_days_left=rnd.choice([None, -2, 10, 30, 31, 200]) if https else None,
        domain_days_left=rnd.choice([None, None, -1, 60, 61, 300]),
    )
    kip = KipFacts(True, 2026, None, None, None, ())
    themes = rnd.sample(["sid", "keterbukaan", "keamanan", "keamanan"], rnd.randint(0, 3))
    items = [CoachingItem(f"k{n}", t, f"Hal {n}") for n, t in enumerate(themes)]
    if rnd.random() < 0.1:  # a stale integrity item (the finding may be resolved by now)
        items.append(CoachingItem("integrity", "keamanan", INTEGRITY_TEXT))
    score = Score(50.0, ())
    return YardstickReport("", at, kip, score, security, score, None, None, tuple(items))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def paged_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """90 villages with every mix of site, news age, collections (an older one, then the
    newest) and open or resolved findings."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('paged')}/paged.db"
    else:
        from tests.test_worker import _empty

        url = pg_url_or_skip()
        _empty(url)
    config = parse_config(_paged_config(), "paged.yaml")
    store = Store(url, config.settings)
    store.migrate()
    now = datetime.now(UTC)
    store.sync_config(config, now)
    rnd = random.Random(3)
    for v in config.villages:
        if v.url:
            for days in sorted(rnd.sample([1, 3, 9], rnd.randint(0, 2)), reverse=True):
                store.record_yardsticks(v.code, _report(rnd, now), now - timedelta(days=days))
        with Session(store.engine) as s:
            row = s.get(Village, v.code)
            assert row is not None
            row.last_post_at = rnd.choice([None, now - timedelta(days=rnd.uniform(0, 90))])
            for status in rnd.choice([[], [], ["open"], ["resolved"], ["open", "open"]]):
                s.add(Finding(village_code=v.code, kind="judi_online", status=status,
                              first_seen=now, last_seen=now))  # fmt: skip
            s.add(row)
            s.commit()
    yield store
    store.close()


def _expected_order(store: Store, now: datetime, theme: str, kecamatan: str | None) -> list[str]:
    """The documented order computed from the raw rows: the newest collection of each
    village (not the copy on the village row), its open findings, its site and news age."""
    with Session(store.engine) as s:
        villages = s.exec(select(Village)).all()
        newest: dict[str, YardstickCheck] = {}
        for c in s.exec(select(YardstickCheck).order_by(col(YardstickCheck.checked_at))).all():
            newest[c.village_code] = c
        flagged = {f.village_code for f in s.exec(select(Finding)).all() if f.status == "open"}
    ranked = []
    for v in villages:
        if kecamatan and not (v.code + ".").startswith(kecamatan + "."):
            continue
        c = newest.get(v.code)
        report = c.report if c else ""
        https, cert, problem = (
            (c.https_offered, c.cert_days_left, c.cert_problem) if c else (None,) * 3
        )
        domain, items = (c.domain_days_left, c.coaching_items) if c else (None, 0)
        no_site, finding = v.url == "", v.code in flagged
        quiet = v.last_post_at is None or v.last_post_at < now - timedelta(days=30)
        if no_site or finding:
            urgency = 0
        elif problem == "expired" or (domain is not None and domain < 0):
            urgency = 1
        elif (https and cert is not None and cert <= 30) or (domain is not None and domain <= 60):
            urgency = 2
        elif https and problem is not None:
            urgency = 3
        elif https is False:
            urgency = 4
        else:
            urgency = 5 if items > 0 else 9 if quiet else 99
        keep = {
            "": no_site or quiet or finding or items > 0,
            "aktivitas": no_site or quiet,
            "keterbukaan": not no_site and '"theme": "keterbukaan"' in report,
            "keamanan": not no_site and ('"theme": "keamanan"' in report or finding),
            "integritas": not no_site and finding,
        }[theme]
        if keep:
            ranked.append((urgency, -items, v.code))
    return [code for *_, code in sorted(ranked)]


@pytest.mark.parametrize("kecamatan", [None, "33.03.02", "33.03"])
@pytest.mark.parametrize("theme", ["", "aktivitas", "keterbukaan", "keamanan", "integritas"])
def test_walking_the_pages_yields_every_village_once_in_order(
    paged_store: Store, theme: str, kecamatan: str | None
) -> None:
    now = datetime.now(UTC)
    expected = _expected_order(paged_store, now, theme, kecamatan)
    assert len(expected) > (14 if kecamatan is None else 0)  # several pages to walk
    walked: list[str] = []
    while True:
        page = board_page(paged_store.engine, now, kecamatan=kecamatan, theme=theme,
                          offset=len(walked), limit=7)  # fmt: skip
        walked += [v["code"] for v in page.villages]
        if len(page.villages) < 7:
            break
        assert page.total == len(expected)
    assert walked == expected


def test_halaman_walks_the_whole_list(paged_store: Store) -> None:
    now = datetime.now(UTC)
    expected = _expected_order(paged_store, now, "", None)
    assert len(expected) > PAGE_SIZE  # more than one page
    pages = -(-len(expected) // PAGE_SIZE)
    seen: list[str] = []
    with LiveServer(
        create_app(paged_store.settings, store=paged_store, run_scheduler=False)
    ) as srv:
        for n in range(1, pages + 1):
            html = httpx.get(f"{srv.url}/pembinaan", params={"halaman": n}).text
            assert f"Halaman {n} dari {pages}" in html
            seen += re.findall(r'data-village="([^"]+)"', html)
        past = httpx.get(f"{srv.url}/pembinaan", params={"halaman": pages + 1}).text
        assert "data-village=" not in past
    assert seen == expected


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_upgrade_copies_each_villages_newest_collection(db: str, tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from tests.test_worker import _empty

    url = f"sqlite:///{tmp_path}/old.db" if db == "sqlite" else pg_url_or_skip()
    if db == "postgres":
        _empty(url)
    store = Store(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parents[1] / "aggregator/migrations"))
    old, new = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0017")
        conn.execute(text("INSERT INTO kecamatan (code, name, kabupaten_code, in_config) "
                          "VALUES ('33.03.01', 'Kemangkon', '33.03', true)"))  # fmt: skip
        for code, at in (("33.03.01.2001", new), ("33.03.01.2002", None)):
            conn.execute(
                text(
                    "INSERT INTO village (code, kecamatan_code, name, type, url, platform,"
                    " html_rules, in_config, consecutive_failures, consecutive_ok, validators,"
                    " cookies, plan, posts_30d, news_count, status, integrity_clean_streak,"
                    " cert_alerted, domain_alerted, score_components, yardsticks_checked_at)"
                    " VALUES (:code, '33.03.01', 'Desa', 'desa', 'http://d.example/', 'auto',"
                    " '', true, 0, 0, '{}', '{}', '{}', 0, 0, 'active', 0, 0, 0, '{}', :at)"
                ),
                {"code": code, "at": at},
            )
        for at, https, items, themes in ((old, False, 1, ["sid"]), (new, True, 2, ["keamanan"])):
            report = json.dumps({"coaching": [{"key": "k", "theme": t} for t in themes]})
            conn.execute(
                text(
                    "INSERT INTO yardstickcheck (village_code, checked_at, https_offered,"
                    " cert_days_left, cert_problem, domain_days_left, coaching_items, report)"
                    " VALUES ('33.03.01.2001', :at, :https, 12, 'expired', 40, :items, :report)"
                ),
                {"at": at, "https": https, "items": items, "report": report},
            )
    store.migrate()
    with Session(store.engine) as s:
        copied, untouched = s.get(Village, "33.03.01.2001"), s.get(Village, "33.03.01.2002")
    assert copied is not None and untouched is not None
    assert (copied.https_offered, copied.cert_days_left, copied.cert_problem) == (
        True,
        12,
        "expired",
    )
    assert (copied.domain_days_left, copied.coaching_items) == (40, 2)
    assert copied.coaching_themes == themes_field(["keamanan"]) == ",keamanan,"
    assert (untouched.https_offered, untouched.coaching_items, untouched.coaching_themes) == (
        None, 0, "")  # fmt: skip
    store.close()


def pg_url_or_skip() -> str:
    url = os.environ.get("SIPANDE_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip("SIPANDE_TEST_POSTGRES_URL not set (.ci/run sets it)")
    return url


def test_kecamatan_filter_lists_a_kabupaten_and_takes_a_code_past_a_page(
    paged_store: Store, tmp_path: Path
) -> None:
    assert paged_store.kecamatan_choices("33.03.02", KEC_PAGE) == (
        [("33.03.01", "Kec 1"), ("33.03.02", "Kec 2"), ("33.03.03", "Kec 3")],
        "Kec 2",
    )
    lines = ['kabupaten: {code: "33.03", name: Purbalingga}', "kecamatan:"]
    for k in range(1, KEC_PAGE + 2):  # one more than a select lists
        lines += [f'  - code: "33.03.{k:02d}"', f"    name: Kec {k}", "    villages:"]
        lines.append(f'      - {{code: "33.03.{k:02d}.2001", name: "Desa {k}", url: ""}}')
    config = parse_config("\n".join(lines) + "\n", "many.yaml")
    store = Store(f"sqlite:///{tmp_path}/many.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    assert store.kecamatan_choices("33.03.51", KEC_PAGE) == (None, "Kec 51")
    assert store.kecamatan_choices("33.03.99", KEC_PAGE) == (None, None)
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        html = httpx.get(f"{srv.url}/pembinaan", params={"kecamatan": "33.03.51"}).text
        assert 'input type="text" name="kecamatan" value="33.03.51"' in html
        assert "1 desa/kelurahan perlu dibina di Kecamatan Kec 51" in html
        assert 'data-village="33.03.51.2001"' in html
    store.close()
