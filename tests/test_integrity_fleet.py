"""The integrity watch on the fleet: every compromised village is reported with
evidence through /api/findings and on its page; no clean village is flagged, including the
ones with news about fighting judi online and with ambiguous words."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from markupsafe import escape

from aggregator.cli import poll_once
from aggregator.web import create_app
from fleet import JUDOL, LOOKALIKES, Fleet
from tests.conftest import LiveServer
from tests.test_poller import _setup

KINDS = ("opensid-2410-esensi", "opensid-2601-natra", "wordpress", "opensid-2101-natra")


def test_compromised_villages_reported_lookalikes_not(tmp_path: Path) -> None:
    behaviours = [*JUDOL, *LOOKALIKES, "active"]
    kinds = [KINDS[i % len(KINDS)] for i in range(len(behaviours))]

    async def fill():  # type: ignore[no-untyped-def]
        async with Fleet.of_kinds(kinds, seed=4) as fleet:
            for v, behaviour in zip(fleet.villages, behaviours, strict=True):
                fleet.set_behaviour(v.code, behaviour)
            truth = {v.code: fleet.compromised(v.code) for v in fleet.villages}
            config, store = _setup(fleet, tmp_path)
            await poll_once(config, store)
            return store, truth

    store, truth = asyncio.run(fill())
    assert sum(1 for p in truth.values() if p) == len(JUDOL)
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        findings = httpx.get(f"{srv.url}/api/findings?status=open").json()
        flagged = {f["village_code"] for f in findings}
        expected = {code for code, pattern in truth.items() if pattern}
        assert flagged == expected, {c: truth[c] for c in flagged ^ expected}
        for f in findings:
            assert f["evidence"] and f["url"].startswith("http")
        for code, pattern in truth.items():
            village = httpx.get(f"{srv.url}/api/villages/{code}").json()
            page = httpx.get(f"{srv.url}/desa/{code}").text
            if pattern:
                assert village["status"] == "compromised", (code, pattern)
                assert "Disusupi" in page
                evidence = next(f["evidence"] for f in findings if f["village_code"] == code)
                assert str(escape(evidence[:60])) in page  # shown, escaped as Jinja does
            else:
                assert village["status"] != "compromised" and village["open_findings"] == 0
    store.close()


def test_hidden_block_in_an_older_post_body_is_found_in_the_first_poll(tmp_path: Path) -> None:
    """judol_post_body: the block is only in the body of a four-month-old post, neither on the
    home page nor among the items the watch fetches; the post-body check of what the REST API
    handed over finds it in the first poll, with that post as the finding's url."""
    behaviours = ["judol_post_body", "clean_antijudol", "active"]

    async def fill():  # type: ignore[no-untyped-def]
        async with Fleet.of_kinds(["wordpress"] * 3, seed=5) as fleet:
            for v, behaviour in zip(fleet.villages, behaviours, strict=True):
                fleet.set_behaviour(v.code, behaviour)
            hostile = fleet.villages[0].code
            (article,) = fleet.body_injected_articles(hostile)
            url = fleet.article_url(hostile, article)
            async with httpx.AsyncClient() as client:
                home = (await client.get(fleet.url(hostile))).text
            assert url not in home and "brandx88.example" not in home  # not on the home page
            assert fleet.compromised(hostile) == "P1"
            config, store = _setup(fleet, tmp_path)
            await poll_once(config, store)
            return store, hostile, url

    store, hostile, url = asyncio.run(fill())
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        findings = httpx.get(f"{srv.url}/api/findings?status=open").json()
        assert [(f["village_code"], f["kind"], f["url"]) for f in findings] == [
            (hostile, "judi_online_post", url)
        ], findings
        assert "hidden_link_block" in findings[0]["evidence"]
        assert "brandx88.example" in findings[0]["evidence"]
        assert httpx.get(f"{srv.url}/api/villages/{hostile}").json()["status"] == "compromised"
        page = httpx.get(f"{srv.url}/desa/{hostile}").text
        assert "Judi online di isi berita" in page
    store.close()
