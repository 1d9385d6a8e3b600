"""The kabupaten Pembinaan list: every village's to-dos from the daily yardstick run plus
what is known live (news cadence, open integrity findings), ranked, filtered by kecamatan and
theme, printable and exportable; one SQL statement per page however many villages."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import event
from sqlmodel import Session

from aggregator.cli import poll_once
from aggregator.fetch.client import Fetcher
from aggregator.models import Finding
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.web import create_app
from aggregator.yardsticks.board import board_page
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
