"""KIP and security yardsticks wired in: the daily run collects them for every
village of the fleet, stores scores and coaching lists, and the pages and exports show them."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openpyxl

from aggregator.cli import poll_once
from aggregator.fetch.client import Fetcher
from aggregator.web import create_app
from aggregator.yardsticks.job import run_yardsticks
from fleet import Fleet
from tests.conftest import LiveServer
from tests.test_poller import _setup


def test_daily_run_scores_every_village_and_pages_show_the_coaching_list(tmp_path: Path) -> None:
    async def fill():  # type: ignore[no-untyped-def]
        async with Fleet.of_kinds(["opensid-2410-esensi", "opensid-2101-natra", "wordpress"],
                                  seed=2) as fleet:  # fmt: skip
            config, store = _setup(fleet, tmp_path)
            await poll_once(config, store)
            async with Fetcher(config.settings) as fetcher:
                done = await run_yardsticks(store, fetcher, config.settings)
                again = await run_yardsticks(store, fetcher, config.settings)
            return store, [v.code for v in fleet.villages], done, again

    store, codes, done, again = asyncio.run(fill())
    store.score_all(datetime.now(UTC))  # the daily snapshot carries the three means
    assert done == len(codes) and again == 0  # once a day, not on every run
    rows = {v["code"]: v for v in store.list_villages()}
    for code in codes:
        assert rows[code]["kip_score"] is not None and rows[code]["security_score"] is not None
        report = store.latest_yardsticks(code)
        assert report is not None
        for key in ("kip_score", "security_score"):
            assert all(c["reason"] for c in report[key]["components"])
    old = store.latest_yardsticks(codes[1])
    assert old is not None and any("OpenSID" in i["text"] for i in old["coaching"])
    assert any("HTTPS" in i["text"] for i in old["coaching"])  # the fleet serves plain http
    kec = rows[codes[0]]["kecamatan_code"]
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        page = httpx.get(f"{srv.url}/desa/{codes[1]}").text
        assert "Keamanan Digital" in page and "Daftar pembinaan" in page
        assert old["coaching"][0]["text"].split()[0] in page
        kec_page = httpx.get(f"{srv.url}/kecamatan/{kec}").text
        kip = rows[codes[0]]["kip_score"]
        assert 'data-yardstick="kip"' in kec_page and f"{kip:.1f}".replace(".", ",") in kec_page
        home = httpx.get(f"{srv.url}/").text
        assert "Keamanan Digital" in home  # side by side on the kabupaten overview
        assert 'id="tren-skor-t"' in home and 'id="tren-skor-angka"' in home  # and trend
        day = store.district_history(datetime.now(UTC).date() - timedelta(days=1))[-1]
        assert day["mean_kip"] is not None and day["mean_security"] is not None
        assert f"{day['mean_kip']:.1f}".replace(".", ",") in home
        coaching = httpx.get(f"{srv.url}/kecamatan/{kec}/pembinaan")
        assert coaching.status_code == 200 and "Daftar pembinaan" in coaching.text
        xlsx = httpx.get(f"{srv.url}/kecamatan/{kec}/pembinaan.xlsx").content
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
        data = [r for r in sheet.iter_rows(min_row=2, values_only=True) if any(r)]
        assert len(data) == len(store.coaching_rows(kec))
        one = httpx.get(f"{srv.url}/desa/{codes[1]}/pembinaan.xlsx").content
        sheet = openpyxl.load_workbook(io.BytesIO(one)).worksheets[0]
        texts = [r[4] for r in sheet.iter_rows(min_row=2, values_only=True) if any(r)]
        assert texts == [i["text"] for i in old["coaching"]]  # most urgent first, as on screen
    store.close()
