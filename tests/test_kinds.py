"""Every site kind of the fleet, read with `platform: auto` on real sockets: the platform and
OpenSID version are recognised, services and visitor metrics stored, news counts and newest
dates match what each site published, and a second pass adds nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from aggregator.cli import poll_once
from aggregator.store import Store
from aggregator.web import create_app
from connectors.normalise import WIB
from fleet import KINDS, Fleet
from tests.conftest import LiveServer
from tests.test_poller import _setup

SERVICE_KINDS = ("lapak", "ppid", "pengaduan", "pembangunan", "pemerintah")


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, object]]]:
    tmp = tmp_path_factory.mktemp("kinds")

    async def fill() -> tuple[Store, dict[str, object]]:
        async with Fleet.of_kinds(KINDS, seed=11) as fleet:
            config, store = _setup(fleet, tmp)
            await poll_once(config, store)
            truth: dict[str, object] = {}
            for v in fleet.villages:
                arts = fleet.articles(v.code)
                truth[v.code] = {
                    "kind": fleet.kind(v.code),
                    "platform": fleet.expected_platform(v.code),
                    "version": fleet.version_label(v.code),
                    "visitors": fleet.visitors(v.code),
                    "services": fleet.services(v.code),
                    "count": len(arts),
                    "newest": max(a.published_at for a in arts) if arts else None,
                }
            before = {v["code"]: v["news_count"] for v in store.list_villages()}
            await poll_once(config, store)  # unchanged sites: nothing new
            truth["_second_pass"] = before == {
                v["code"]: v["news_count"] for v in store.list_villages()
            }
            code = fleet.villages[0].code
            fleet.add_article(
                code, "Penetapan Perdes APBDes Perubahan", fleet.now - timedelta(minutes=2)
            )
            count = store.village_detail(code)["news_count"]  # type: ignore[index]
            await poll_once(config, store, villages=[code])
            truth["_one_more"] = store.village_detail(code)["news_count"] - count  # type: ignore[index]
            return store, truth

    store, truth = asyncio.run(fill())
    yield store, truth
    store.close()


def test_auto_recognises_every_kind_and_version(polled: tuple[Store, dict[str, object]]) -> None:
    store, truth = polled
    app = create_app(store.settings, store=store, run_scheduler=False)
    with LiveServer(app) as srv:
        for code, t in truth.items():
            if code.startswith("_"):
                continue
            expect = t  # type: ignore[assignment]
            v = httpx.get(f"{srv.url}/api/villages/{code}").json()
            assert v["last_check_ok"], (expect["kind"], v["last_error_message"])  # type: ignore[index]
            assert v["platform"] == expect["platform"], expect["kind"]  # type: ignore[index]
            if expect["platform"] == "opensid":  # type: ignore[index]
                assert v["platform_version"] == expect["version"], expect["kind"]  # type: ignore[index]
                metrics = v["metrics"]
                for name, value in expect["visitors"].items():  # type: ignore[index]
                    assert metrics[f"visitors_{name}"]["value"] == value, (expect["kind"], name)
                services = {s["kind"]: s for s in v["services"]}
                for kind in SERVICE_KINDS:
                    shown = expect["services"][kind]  # type: ignore[index]
                    assert kind in services, (expect["kind"], kind)
                    assert services[kind]["available"] is (shown is not None), (
                        expect["kind"],
                        kind,
                    )
            elif expect["platform"] == "wordpress":  # type: ignore[index]
                assert v["platform_version"] == expect["version"], expect["kind"]  # type: ignore[index]


def test_news_counts_and_newest_dates_match_each_site(
    polled: tuple[Store, dict[str, object]],
) -> None:
    store, truth = polled
    for code, t in truth.items():
        if code.startswith("_"):
            continue
        expect = t  # type: ignore[assignment]
        v = store.village_detail(code)
        assert v is not None
        # The first article added later to the first village is not counted here.
        extra = 1 if code == next(iter(truth)) else 0
        assert v["news_count"] - extra == expect["count"], expect["kind"]  # type: ignore[index]
        if expect["newest"] is not None:  # type: ignore[index]
            newest = store.news(village=code, limit=1 + extra)[extra]
            got = datetime.fromisoformat(newest["published_at"])
            want: datetime = expect["newest"]  # type: ignore[index]
            if expect["platform"] == "html":  # type: ignore[index]
                # A list page shows only the day ("Kamis, 27 November 2026"), in WIB.
                assert got.astimezone(WIB).date() == want.astimezone(WIB).date()
            else:
                assert got == want, expect["kind"]  # type: ignore[index]


def test_second_pass_adds_nothing_and_one_article_is_one_item(
    polled: tuple[Store, dict[str, object]],
) -> None:
    _, truth = polled
    assert truth["_second_pass"] is True
    assert truth["_one_more"] == 1
