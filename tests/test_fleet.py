"""Tests of the simulated village fleet over real loopback sockets."""

from __future__ import annotations

import asyncio
import gzip
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest
import yaml

from aggregator.fleet import BEHAVIOURS, Fleet, SimVillage

NOW = datetime(2026, 9, 7, 3, 0, tzinfo=UTC)
PLAIN = {"Accept-Encoding": "identity"}


def village(code: str, name: str, behaviour: str, kind: str = "desa") -> SimVillage:
    kec = code.rsplit(".", 1)[0]
    return SimVillage(
        code, name, kind, kec, {"33.03.01": "Kemangkon"}.get(kec, "Bukateja"), behaviour
    )


def small_fleet(slow_seconds: float = 2.0) -> Fleet:
    return Fleet(
        [
            village("33.03.01.2001", "Kedungbenda", "active"),
            village("33.03.01.2002", "Bokol", "never_posted"),
            village("33.03.02.2001", "Tidu", "down_500"),
            village("33.03.02.2002", "Wirasaba", "hang"),
            village("33.03.02.1001", "Bukateja", "quiet", "kelurahan"),
            village("33.03.01.2003", "Pelumutan", "unresolvable"),
            village("33.03.01.2004", "Majatengah", "no_site"),
        ],
        seed=3,
        now=NOW,
        slow_seconds=slow_seconds,
    )


def run(fleet: Fleet, body: Callable[[Fleet, httpx.AsyncClient], Awaitable[None]]) -> None:
    async def main() -> None:
        async with fleet, httpx.AsyncClient(timeout=5) as client:
            await body(fleet, client)

    asyncio.run(main())


def test_home_page_is_opensid_like() -> None:
    async def body(fleet: Fleet, client: httpx.AsyncClient) -> None:
        url = fleet.url("33.03.01.2001")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
        r = await client.get(url)
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/html; charset=UTF-8"
        html = r.text
        assert "<title>Website Resmi Desa Kedungbenda</title>" in html
        assert 'name="generator"' not in html
        feed_link = f'title="Feed Desa Kedungbenda" href="{url}index.php/feed"'
        assert 'type="application/rss+xml"' in html and feed_link in html
        assert 'class="widget statistik-pengunjung"' in html and "Hari ini" in html
        version = fleet.opensid_version("33.03.01.2001")
        assert "Powered by" in html and f"v{version[:2]}.{version[2:]}</p>" in html
        assert f"style.css?v={version[:2]}.{version[2:]}.0" in html
        assert len(re.findall(r'<article class="artikel">', html)) == 10
        assert re.search(r'class="tanggal">\d{1,2} (Agustus|September) 2026<', html)
        kel = await client.get(fleet.url("33.03.02.1001") + "index.php")
        assert "<title>Website Resmi Kelurahan Bukateja</title>" in kel.text

    run(small_fleet(), body)


def test_feed_is_rss_with_opensid_quirks() -> None:
    async def body(fleet: Fleet, client: httpx.AsyncClient) -> None:
        base = fleet.url("33.03.01.2001")
        r = await client.get(base + "index.php/feed", headers=PLAIN)
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/xml; charset=UTF-8"
        assert r.headers["etag"].startswith('W/"') and "last-modified" in r.headers
        assert r.text.startswith("<rss ") and "<?xml" not in r.text
        assert "<dc:rights>Copyright 2016-2026 OpenDesa - OpenSID " in r.text
        parsed = feedparser.parse(r.content)
        assert not parsed.bozo
        assert parsed.feed.title == "Desa Kedungbenda" and parsed.feed.link == base
        assert parsed.feed.language == "id"
        entries = parsed.entries
        assert len(entries) == 50
        stamps = [e.published_parsed for e in entries]
        assert stamps == sorted(stamps, reverse=True)
        assert all(e.published.endswith(" +0700") for e in entries)
        for e in entries:
            m = re.fullmatch(
                re.escape(base) + r"index\.php/artikel/(\d{4})/(\d+)/(\d+)/[a-z0-9-]+", e.link
            )
            assert m and not m[2].startswith("0") and not m[3].startswith("0")
            assert e.id == e.link and e.author == "Admin Desa"
            assert e.content[0].value.startswith("<p>") and "[...]" in e.summary
        newest = fleet.articles("33.03.01.2001")[0]
        assert NOW - timedelta(days=3) <= newest.published_at <= NOW
        assert entries[0].title == newest.title
        for path in ("feed", "feed.xml"):
            assert (await client.get(base + path, headers=PLAIN)).content == r.content
        empty = await client.get(fleet.url("33.03.01.2002") + "feed")
        assert empty.status_code == 200 and feedparser.parse(empty.content).entries == []
        assert "last-modified" not in empty.headers
        quiet = fleet.articles("33.03.02.1001")[0].published_at
        assert NOW - timedelta(days=80) <= quiet <= NOW - timedelta(days=40)

    run(small_fleet(), body)


def test_conditional_get_and_gzip() -> None:
    async def body(fleet: Fleet, client: httpx.AsyncClient) -> None:
        feed = fleet.url("33.03.01.2001") + "index.php/feed"
        first = await client.get(feed, headers=PLAIN)
        assert "content-encoding" not in first.headers
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        r = await client.get(feed, headers={"If-None-Match": etag})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
        r = await client.get(feed, headers={"If-Modified-Since": modified})
        assert r.status_code == 304
        r = await client.get(feed, headers={"If-None-Match": 'W/"stale"', **PLAIN})
        assert r.status_code == 200 and r.content == first.content
        older = "Mon, 01 Jan 2024 00:00:00 GMT"
        assert (await client.get(feed, headers={"If-Modified-Since": older})).status_code == 200
        zipped = await client.get(feed, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.content == first.content  # httpx decompressed it
        assert int(zipped.headers["content-length"]) < len(first.content) // 2
        async with client.stream("GET", feed, headers={"Accept-Encoding": "gzip"}) as raw:
            data = b"".join([chunk async for chunk in raw.aiter_raw()])
        assert gzip.decompress(data) == first.content

    run(small_fleet(), body)


def test_article_pages_and_errors() -> None:
    async def body(fleet: Fleet, client: httpx.AsyncClient) -> None:
        base = fleet.url("33.03.01.2001").rstrip("/")
        art = fleet.articles("33.03.01.2001")[0]
        y, m, d, slug = art.path.split("/")[3:]
        for path in (
            art.path,
            f"/artikel/{y}/{m}/{d}/{slug}",
            f"/artikel/{y}/{int(m):02d}/{int(d):02d}/{slug}",
        ):
            r = await client.get(base + path)
            assert r.status_code == 200 and "<h1>" in r.text and slug in str(r.url)
        assert (await client.get(base + f"/artikel/{y}/{m}/{d}/tidak-ada")).status_code == 404
        assert (await client.get(base + "/wp-login.php")).status_code == 404
        assert (await client.post(base + "/", content=b"x=1")).status_code == 405
        head = await client.head(base + "/feed", headers=PLAIN)
        assert (
            head.status_code == 200
            and head.content == b""
            and int(head.headers["content-length"]) > 0
        )
        down = await client.get(fleet.url("33.03.02.2001") + "feed")
        assert down.status_code == 500 and "Database Error" in down.text

    run(small_fleet(), body)


async def raw_exchange(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(payload)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    await writer.wait_closed()
    return data


def test_keep_alive_connection_close_and_garbage() -> None:
    async def body(fleet: Fleet, client: httpx.AsyncClient) -> None:
        url = fleet.url("33.03.01.2001")
        two = b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
        two += b"GET /robots.txt HTTP/1.1\r\nConnection: close\r\n\r\n"
        data = await raw_exchange(url, two)
        assert data.count(b"HTTP/1.1 200 OK") == 2 and data.endswith(b"Allow: /\n")
        assert b"Connection: keep-alive" in data and b"Connection: close" in data
        assert (await raw_exchange(url, b"\x16\x03\x01garbage\r\n\r\n")).startswith(b"HTTP/1.1 400")
        assert (await raw_exchange(url, b"GET / HTTP/9.9\r\n\r\n")).startswith(b"HTTP/1.1 505")
        statuses = [rec.status for rec in fleet.requests("33.03.01.2001")]
        assert statuses == [200, 200, 400, 505]
        first = fleet.requests("33.03.01.2001")[0]
        assert first.method == "HEAD" and first.path == "/" and first.headers == {"host": "x"}

    run(small_fleet(), body)


def test_hang_times_out_and_fleet_stops_promptly() -> None:
    async def main() -> float:
        fleet = small_fleet()
        await fleet.start()
        async with httpx.AsyncClient(timeout=0.5) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(fleet.url("33.03.02.2002") + "feed")
        async with httpx.AsyncClient(timeout=5) as client:
            pending = asyncio.ensure_future(client.get(fleet.url("33.03.02.2002")))
            await asyncio.sleep(0.1)
            started = time.perf_counter()
            await fleet.stop()
            with pytest.raises(httpx.TransportError):
                await pending
        assert [r.status for r in fleet.requests("33.03.02.2002")] == [0, 0]
        return time.perf_counter() - started

    assert asyncio.run(main()) < 0.5


def test_set_behaviour_and_add_article() -> None:
    async def body(fleet: Fleet, client: httpx.AsyncClient) -> None:
        code = "33.03.01.2001"
        feed = fleet.url(code) + "index.php/feed"
        before = await client.get(feed)
        fleet.set_behaviour(code, "down_500")
        assert (await client.get(feed)).status_code == 500
        fleet.set_behaviour(code, "active")
        assert (await client.get(feed)).content == before.content
        art = fleet.add_article(code, 'Rapat "Khusus" & Doa Bersama', NOW - timedelta(minutes=5))
        fleet.add_article(code, "Belum Terbit", NOW + timedelta(days=1))
        after = await client.get(feed, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        top = feedparser.parse(after.content).entries[0]
        assert top.title == 'Rapat "Khusus" & Doa Bersama' and top.link.endswith(art.path)
        assert "Belum Terbit" not in after.text and art.path.endswith("/2026/9/7/" + art.slug)
        assert art.slug == "rapat-khusus-doa-bersama"
        with pytest.raises(ValueError):
            fleet.set_behaviour(code, "exploded")
        fleet.set_behaviour(code, "no_site")
        assert fleet.url(code) == ""

    run(small_fleet(), body)


def test_slow_site_drips_the_body() -> None:
    async def body(fleet: Fleet, client: httpx.AsyncClient) -> None:
        fleet.set_behaviour("33.03.01.2001", "slow")
        started = time.perf_counter()
        r = await client.get(fleet.url("33.03.01.2001") + "feed")
        assert r.status_code == 200 and len(feedparser.parse(r.content).entries) == 50
        assert time.perf_counter() - started >= 0.25

    run(small_fleet(slow_seconds=0.3), body)


def test_config_yaml_lists_every_village() -> None:
    async def body(fleet: Fleet, client: httpx.AsyncClient) -> None:
        text = fleet.config_yaml(settings={"poll_interval": "30m", "concurrency": 8})
        assert 'kabupaten: {code: "33.03", name: Purbalingga}' in text
        data = yaml.safe_load(text)
        assert data["kabupaten"] == {"code": "33.03", "name": "Purbalingga"}
        assert data["settings"] == {
            "allow_private_addresses": True,
            "poll_interval": "30m",
            "concurrency": 8,
        }
        listed = {
            v["code"]: (v["url"], v["type"], v["platform"], kec["code"])
            for kec in data["kecamatan"]
            for v in kec["villages"]
        }
        assert listed.keys() == {v.code for v in fleet.villages}
        for v in fleet.villages:
            assert listed[v.code] == (fleet.url(v.code), v.type, "auto", v.kecamatan_code)
        assert listed["33.03.01.2003"][0] == "http://pelumutan-kemangkon.desa.invalid/"
        assert listed["33.03.01.2004"][0] == ""
        assert [k["name"] for k in data["kecamatan"]] == ["Kemangkon", "Bukateja"]

    run(small_fleet(), body)


def test_from_district_mix_is_deterministic() -> None:
    fleet = Fleet.from_district(24, now=NOW)
    mix = Counter(v.behaviour for v in fleet.villages)
    assert mix == {
        "active": 11,
        "quiet": 4,
        "abandoned": 4,
        "never_posted": 1,
        "down_500": 1,
        "hang": 1,
        "unresolvable": 1,
        "no_site": 1,
    }
    assert len({v.kecamatan_code for v in fleet.villages}) == 18
    assert set(mix) <= set(BEHAVIOURS)
    again = Fleet.from_district(24, now=NOW)
    assert again.villages == fleet.villages
    code = fleet.villages[0].code
    assert again.articles(code) == fleet.articles(code)
    assert Fleet.from_district(24, seed=8, now=NOW).villages != fleet.villages
    assert "slow" in {v.behaviour for v in Fleet.from_district(40, now=NOW).villages}
    for v in fleet.villages:
        count = len(fleet.articles(v.code))
        if v.behaviour == "active":
            assert 55 <= count <= 95
        elif v.behaviour == "abandoned":
            assert 1 <= count <= 12
            assert fleet.articles(v.code)[0].published_at <= NOW - timedelta(days=120)
    bodies = [a.body_html for v in fleet.villages for a in fleet.articles(v.code)]
    titles = [a.title for v in fleet.villages for a in fleet.articles(v.code)]
    assert any("<script>alert(1)</script>" in b and "onerror=" in b for b in bodies)
    assert any("&" in t and '"' in t for t in titles)
