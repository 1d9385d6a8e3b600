"""Plain-HTML connector: scraping rules and default heuristics on saved home pages (golden
pairs), Indonesian date formats, and `collect` against a loopback server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.errors import FetchError, ParseError
from aggregator.fetch.client import Fetcher
from aggregator.poll.village_http import VillageHttp
from aggregator.settings import HTML_RULE_KEYS, Settings
from aggregator.types import FetchResponse, VillageForPoll
from connectors.html import (
    Detection,
    HtmlConnector,
    decode_page,
    detect,
    parse_date,
    parse_html_list,
    rule_problems,
)
from tests.conftest import RawServer, response

FIXTURES = Path(__file__).parent / "fixtures" / "html"
CASES = sorted(p.stem for p in FIXTURES.glob("*.html"))


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    expected = json.loads((FIXTURES / f"{case}.expected.json").read_text(encoding="utf-8"))
    assert set(expected["rules"]) <= set(HTML_RULE_KEYS)
    items = parse_html_list(
        (FIXTURES / f"{case}.html").read_bytes(), expected["base_url"], expected["rules"]
    )
    got = []
    for item in items:
        data = dataclasses.asdict(item)
        assert len(data.pop("content_hash")) == 64
        assert data.pop("spam") is False  # flagged later, by the integrity watch
        data.pop("fingerprint")  # a digest of the raw entry, checked in test_feed.py
        assert data.pop("known") is False
        assert data.pop("source") == "html"
        assert data.pop("body") == ""  # a listing holds no post bodies
        data["published_at"] = item.published_at.isoformat() if item.published_at else None
        got.append(data)
    assert got == expected["items"]


def test_defaults_skip_chrome_other_sites_and_repeats() -> None:
    page = (FIXTURES / "default_home.html").read_bytes()
    urls = [i.url for i in parse_html_list(page, "https://karangjengkol.example.desa.id/", {})]
    assert len(urls) == len(set(urls)) == 2
    assert not any("populer" in u or "slot" in u or "kab.example" in u for u in urls)
    # The same links from rules that say where to look are taken as they are.
    ruled = parse_html_list(page, "https://karangjengkol.example.desa.id/", {"item": ".post"})
    assert len(ruled) == 5 and any("slot" in i.title for i in ruled)


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("Kamis, 23 Januari 2025", "%A, %d %B %Y", "2025-01-23T00:00:00+07:00"),
        ("Diposting: Jum'at, 17 Januari 2025 oleh Admin", "%A, %d %B %Y", "2025-01-17T00:00:00"),
        ("Jumat, 17 Jan 2025 | 14.30 WIB", "%A, %d %b %Y | %H.%M %Z", "2025-01-17T14:30:00"),
        ("17 Agu 2024 10:05 WITA", "%d %b %Y %H:%M %Z", "2024-08-17T10:05:00+08:00"),
        ("Sabtu,  1  Maret 2025", "%A, %d %B %Y", "2025-03-01T00:00:00"),
        ("05/09/24", "%d/%m/%y", "2024-09-05T00:00:00+07:00"),
        ("1 Mei 2025 2:15 PM +0700", "%d %B %Y %I:%M %p %z", "2025-05-01T14:15:00+07:00"),
        ("Kamis, 23 Januari 2025", "%d %b %B %Y", None),  # %b and %B both: not a format
        ("31 Februari 2025", "%d %B %Y", None),
        ("Selasa, 7 Foo 2025", "%A, %d %B %Y", None),
    ],
)
def test_indonesian_date_formats(text: str, fmt: str, expected: str | None) -> None:
    got = parse_date(text, fmt)
    if expected is None:
        assert got is None
        return
    assert got is not None and got.isoformat().startswith(expected)
    assert got.utcoffset() is not None


def test_a_date_the_format_misses_falls_back_to_the_usual_reading() -> None:
    page = b"""<div class="x"><a href="/a">A</a><span class="d">2025-01-23 10:00</span></div>"""
    rules = {"item": ".x", "date": ".d", "date_format": "%A, %d %B %Y"}
    (item,) = parse_html_list(page, "https://d.example/", rules)
    assert item.published_at == datetime.fromisoformat("2025-01-23T10:00:00+07:00")


def test_lazy_images_background_images_and_links_on_the_item_itself() -> None:
    page = b"""<ul>
    <li><a class="card" href="/berita/1"><span class="t">Satu</span>
        <div class="img" style="background-image: url('/up/1.jpg')"></div></a></li>
    <li><a class="card" href="/berita/2"><span class="t">Dua</span>
        <img src="data:image/gif;base64,R0l" data-lazy-src="/up/2.jpg"></a></li></ul>"""
    rules = {"item": "a.card", "link": "a", "title": ".t", "image": ".img, img"}
    items = parse_html_list(page, "https://d.example/", rules)
    assert [(i.title, i.url, i.thumbnail) for i in items] == [
        ("Satu", "https://d.example/berita/1", "https://d.example/up/1.jpg"),
        ("Dua", "https://d.example/berita/2", "https://d.example/up/2.jpg"),
    ]


def test_bad_selectors_are_a_parse_error_and_pages_decode_by_their_charset() -> None:
    assert rule_problems({"item": ".ok", "date_format": "%d %B", "title": "h3["}) == [
        "html_rules title: cannot parse CSS selector 'h3['"
    ]
    with pytest.raises(ParseError, match="cannot parse CSS selector"):
        parse_html_list(b"<p></p>", "https://d.example/", {"item": "!!"})
    latin = '<meta charset="iso-8859-1"><p>Rp 5.000 – “Bantuan”</p>'.encode("cp1252")
    assert "Rp 5.000 – “Bantuan”" in decode_page(latin)
    mixed = "<p>Désa ✓ ".encode() + "“x”".encode("cp1252")
    assert decode_page(mixed) == "<p>Désa ✓ “x”"
    gbk = '<meta charset="gbk"><p>村</p>'.encode("gbk")
    assert "村" in decode_page(gbk)


def test_detect_takes_any_html_page() -> None:
    def resp(body: bytes, kind: str) -> FetchResponse:
        return FetchResponse("https://d.example/", 200, {"content-type": kind}, body)

    html = Detection("html", None, None)
    assert detect(resp(b"<p>x</p>", "text/html; charset=utf-8")) == html
    assert detect(resp(b"<!DOCTYPE html><title>x</title>", "")) == html
    assert detect(resp(b'{"a": 1}', "application/json")) is None
    assert detect(resp(b"<rss version='2.0'></rss>", "application/rss+xml")) is None


def test_collect_with_rules_defaults_and_nothing_found() -> None:
    pages = {
        "/ruled/": (FIXTURES / "rules_home.html").read_bytes(),
        "/plain/": (FIXTURES / "default_home.html").read_bytes(),
        "/empty/": b"<html><body><p>Situs dalam perbaikan.</p></body></html>",
    }
    rules = json.loads((FIXTURES / "rules_home.expected.json").read_text())["rules"]

    async def serve(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        page = pages.get(path)
        kind = {"content-type": "text/html; charset=UTF-8"}
        w.write(response(200, page, kind) if page else response(404, b"", kind))

    async def main() -> None:
        connector = HtmlConnector()
        async with RawServer(serve) as srv, Fetcher(Settings(allow_private_addresses=True)) as f:

            async def poll(path: str, rules: dict[str, str] | None = None) -> Any:
                village = VillageForPoll("1", srv.url + path, "html", rules=rules)
                return await connector.collect(village, VillageHttp(f, {}))

            ruled = await poll("/ruled/", rules)
            assert (ruled.platform, len(ruled.items), ruled.notes) == ("html", 3, ())
            assert ruled.items[0].url == srv.url + "/berita/baca/125"
            plain = await poll("/plain/")
            assert [i.url for i in plain.items] == [
                srv.url + "/artikel/2025/1/23/musdes-rkpdes",
                srv.url + "/artikel/2025/1/20/posyandu",
            ]
            empty = await poll("/empty/")
            assert empty.notes == ("no articles found with the rules (the defaults)",)
            empty = await poll("/empty/", {"item": ".kotak-berita"})
            assert empty.items == ()
            assert empty.notes == ("no articles found with the rules (item='.kotak-berita')",)
            with pytest.raises(FetchError, match="HTTP 404"):
                await poll("/gone/")

    asyncio.run(main())


def test_defaults_ignore_old_style_sidebars_and_footers() -> None:
    page = b"""<div id="main"><div class="berita"><h3><a href="/b/1">Satu</a></h3></div></div>
    <div id="sidebar"><div class="berita"><h3><a href="/b/9">Populer</a></h3></div></div>
    <div class="footer"><div class="berita"><a href="/?s=slot">slot gacor</a></div></div>"""
    items = parse_html_list(page, "https://d.example/", {})
    assert [i.title for i in items] == ["Satu"]
