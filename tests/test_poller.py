"""The poller against the simulated fleet on real loopback sockets and a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.cli import poll_once
from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.settings import DistrictConfig, parse_config
from aggregator.store import Store
from fleet import Fleet

# A first poll reads everything (test_poll_plan tests the default spread of it).
FAST = {"request_timeout": "2s", "connect_timeout": "2s", "first_read_spread": 0}


def _setup(fleet: Fleet, tmp_path: Path) -> tuple[DistrictConfig, Store]:
    config = parse_config(fleet.config_yaml(settings=FAST), "fleet.yaml")
    store = Store(f"sqlite:///{tmp_path}/poll.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    return config, store


def _by_behaviour(fleet: Fleet, store: Store) -> dict[str, list[dict[str, object]]]:
    rows = {v["code"]: v for v in store.list_villages()}
    out: dict[str, list[dict[str, object]]] = {}
    for v in fleet.villages:
        out.setdefault(v.behaviour, []).append(rows[v.code])
    return out


def test_one_pass_stores_every_village_and_failures_as_data(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.from_district(12, seed=3) as fleet:
            config, store = _setup(fleet, tmp_path)
            await poll_once(config, store)
            got = _by_behaviour(fleet, store)
            for v in got["active"]:
                assert v["status"] == "active" and v["last_check_ok"] is True
                assert isinstance(v["news_count"], int) and v["news_count"] >= 20
                assert v["platform"] == "opensid" and v["platform_version"]
            for v in got["quiet"]:
                assert v["status"] == "low_activity"
            for v in got["abandoned"]:
                assert v["status"] == "inactive"
            for v in got["no_site"]:
                assert v["status"] == "no_site" and v["last_checked_at"] is None
            expected = {"down_500": ("http", "HTTP 500"), "hang": ("http", "no response"),
                        "unresolvable": ("dns", "cannot resolve")}  # fmt: skip
            for behaviour, (phase, text) in expected.items():
                (v,) = got[behaviour]
                assert v["last_check_ok"] is False and v["last_error_phase"] == phase
                assert text in str(v["last_error_message"])
                detail = store.village_detail(str(v["code"]))
                assert detail is not None and detail["recent_checks"][0]["phase"] == phase
            # Items match what each site published (feed's newest 50 + backfill of the rest).
            for active in got["active"]:
                code = str(active["code"])
                served = [a for a in fleet.articles(code) if a.published_at <= fleet.now]
                assert active["news_count"] == len(served), fleet.kind(code)
                newest = max(served, key=lambda a: a.published_at)
                assert store.news(village=code, limit=1)[0]["title"] == newest.title
            store.close()

    asyncio.run(main())


def test_second_pass_is_conditional_and_adds_nothing_new_article_arrives(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.from_district(12, seed=3) as fleet:
            config, store = _setup(fleet, tmp_path)
            await poll_once(config, store)
            before = {v["code"]: v["news_count"] for v in store.list_villages()}
            total = len(store.news(limit=500))
            await poll_once(config, store)
            assert {v["code"]: v["news_count"] for v in store.list_villages()} == before
            assert len(store.news(limit=500)) == total
            code = next(v.code for v in fleet.villages if v.behaviour == "active")
            feed_requests = [r for r in fleet.requests(code) if r.path.endswith("feed")]
            assert feed_requests[-1].headers.get("if-none-match")
            assert feed_requests[-1].status == 304
            fleet.add_article(code, "Rapat Koordinasi Posyandu", fleet.now - timedelta(minutes=1))
            await poll_once(config, store, villages=[code])
            assert store.news(village=code, limit=1)[0]["title"] == "Rapat Koordinasi Posyandu"
            detail = store.village_detail(code)
            assert detail is not None and detail["recent_checks"][0]["new_items"] == 1
            store.close()

    asyncio.run(main())


def test_site_going_down_becomes_unreachable_and_loses_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.from_district(12, seed=3) as fleet:
            config, store = _setup(fleet, tmp_path)
            code = next(v.code for v in fleet.villages if v.behaviour == "active")
            await poll_once(config, store, villages=[code])
            count = store.village_detail(code)["news_count"]  # type: ignore[index]
            fleet.set_behaviour(code, "down_500")
            for _ in range(3):
                await poll_once(config, store, villages=[code])
            detail = store.village_detail(code)
            assert detail is not None
            assert detail["status"] == "unreachable" and detail["news_count"] == count
            assert [c["ok"] for c in detail["recent_checks"]] == [False, False, False, True]
            fleet.set_behaviour(code, "active")
            await poll_once(config, store, villages=[code])
            detail = store.village_detail(code)
            assert detail is not None and detail["status"] == "unreachable"  # up after 2 good
            await poll_once(config, store, villages=[code])
            detail = store.village_detail(code)
            assert detail is not None and detail["status"] == "active"
            store.close()

    asyncio.run(main())


def test_dispatcher_polls_only_due_villages_and_reschedules(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.from_district(12, seed=3) as fleet:
            config, store = _setup(fleet, tmp_path)
            store.mark_all_due(datetime.now(UTC))
            async with Fetcher(config.settings) as fetcher:
                poller = Poller(store, fetcher, config.settings)
                first = await poller.dispatch_due()
                with_url = sum(1 for v in fleet.villages if fleet.url(v.code))
                assert first.villages == with_url and first.failed == 3
                assert first.new_items > 0
                second = await poller.dispatch_due()
                assert second.villages == 0  # everyone is scheduled in the future now
            for v in store.list_villages():
                if v["url"]:
                    assert v["next_check_at"] is not None
                    assert datetime.fromisoformat(v["next_check_at"]) > datetime.now(UTC)
            store.close()

    asyncio.run(main())


def test_hostile_article_is_reduced_to_text(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.from_district(12, seed=3) as fleet:
            config, store = _setup(fleet, tmp_path)
            code = next(v.code for v in fleet.villages if v.behaviour == "active")
            fleet.add_article(
                code,
                'Pengumuman <script>alert("x")</script> & "Info"',
                fleet.now - timedelta(minutes=5),
                body_html='<p>Isi</p><script>steal()</script><img src=x onerror="alert(1)">',
            )
            await poll_once(config, store, villages=[code])
            item = store.news(village=code, limit=1)[0]
            assert "<script" not in item["title"] and "steal" not in item["summary"]
            assert item["title"].startswith("Pengumuman") and '& "Info"' in item["title"]
            store.close()

    asyncio.run(main())


def _rss(entries: list[tuple[str, str, str]]) -> bytes:
    """A feed without ETag or Last-Modified support: (slug, title, body) per entry."""
    items = "".join(
        f"<item><title>{title}</title><link>https://desa.example/artikel/{slug}</link>"
        f"<guid>https://desa.example/artikel/{slug}</guid>"
        f"<pubDate>Tue, {10 + ord(slug[0]) % 10:02d} Nov 2026 08:00:00 +0700</pubDate>"
        f"<description><![CDATA[<p>{body}</p>]]></description></item>"
        for slug, title, body in entries
    )
    return f'<rss version="2.0"><channel><title>Desa</title>{items}</channel></rss>'.encode()


def test_unchanged_entries_are_not_normalised_again_and_an_edit_still_lands(
    tmp_path: Path,
) -> None:
    """A poll remembers the feed's body digest and each entry's fingerprint with the
    validators: an identical body (no ETag on this site) counts as not modified, and in a
    changed feed only new or edited entries are read again; nothing is lost or doubled."""
    from dataclasses import replace

    from aggregator.types import VillageForPoll
    from tests.conftest import RawServer, one_feed_village, response

    feed = {"body": _rss([("a", "Posyandu", "Balita ditimbang"), ("b", "Musdes", "APBDes")])}

    async def serve(method: str, path: str, headers: dict[str, str], w: object) -> None:
        body = feed["body"] if path == "/feed" else b""
        w.write(response(200 if body else 404, body, {"content-type": "application/rss+xml"}))  # type: ignore[attr-defined]

    async def main() -> None:
        async with RawServer(serve) as srv:
            config, store = one_feed_village(tmp_path, f"{srv.url}/feed")
            code = "33.03.01.2001"
            async with Fetcher(config.settings) as fetcher:
                poller = Poller(store, fetcher, config.settings)

                async def poll() -> tuple[object, int]:
                    (village,) = store.due_villages(datetime.now(UTC), all_villages=True)
                    outcome, new = await poller.poll_and_record(village)
                    return outcome, new

                outcome, new = await poll()
                assert new == 2
                state = store.validators_json(code)[f"{srv.url}/feed"]
                assert len(state["items"].split()) == 2 and len(state["body"]) == 32

                outcome, new = await poll()  # the very same body, served with 200
                assert new == 0 and outcome.harvest.not_modified  # type: ignore[attr-defined]
                assert store.validators_json(code)[f"{srv.url}/feed"] == state

                feed["body"] = _rss(
                    [("c", "Jalan desa", "Cor beton"), ("a", "Posyandu Mawar", "Balita"),
                     ("b", "Musdes", "APBDes")]
                )  # fmt: skip
                outcome, new = await poll()
                items = outcome.harvest.items  # type: ignore[attr-defined]
                assert [i.known for i in items] == [False, False, True]  # new, edited, same
                assert items[2].summary == "" and items[2].title == "Musdes"
                assert new == 1
                titles = sorted(n["title"] for n in store.news(village=code))
                assert titles == ["Jalan desa", "Musdes", "Posyandu Mawar"]
                assert [n["summary"] for n in store.news(village=code, q="Musdes")] == ["APBDes"]

                # An integrity scan on an unchanged feed reads the newest posts from the
                # store: the feed is not parsed again, and a spam post is still seen.
                from aggregator.integrity import is_spam_item

                spam = ("Slot gacor maxwin hari ini", "Daftar situs slot gacor, togel online")
                assert is_spam_item(*spam)
                feed["body"] = _rss([("d", *spam), ("c", "Jalan desa", "Cor beton")])
                await poll()
                watch = Poller(store, fetcher, replace(config.settings, integrity_watch=True))
                (village,) = store.due_villages(datetime.now(UTC), all_villages=True)
                assert isinstance(village, VillageForPoll)
                outcome = await watch.poll_village(replace(village, integrity_checked_at=None))
                assert outcome.harvest is not None and outcome.harvest.not_modified
                assert outcome.integrity is not None
                evidence = " ".join(f.evidence for f in outcome.integrity.findings)
                assert "Slot gacor maxwin" in evidence, outcome.integrity
            store.close()

    asyncio.run(main())
