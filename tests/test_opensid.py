"""OpenSID connector: golden pairs for every parser, and `collect` against a loopback site.

Golden pairs live in tests/fixtures/opensid: `<case>.<ext>` and `<case>.expected.json`, whose
`parser` names the function applied and `result` is what it must return.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aggregator.errors import FetchError, ParseError
from aggregator.fetch.client import Fetcher
from aggregator.poll.village_http import VillageHttp
from aggregator.settings import Settings
from aggregator.types import (
    BODY_LIMIT,
    SCAN_ITEM_PAGES,
    FetchResponse,
    Harvest,
    ParsedItem,
    VillageForPoll,
)
from connectors.feed import parse_feed
from connectors.opensid import OpenSIDConnector, canonical_item, detect
from connectors.opensid_html import (
    normalise_version,
    parse_lapak_html,
    parse_pembangunan_html,
    parse_pemerintah_html,
    parse_pengaduan_html,
    parse_visitor_widget,
    service_links,
)
from connectors.opensid_parse import (
    canonical_article_url,
    parse_arsip,
    parse_jsonapi_count,
    parse_pemerintah_json,
    parse_ppid,
    parse_sitemap,
    site_base,
)
from tests.conftest import RawServer, response

FIXTURES = Path(__file__).parent / "fixtures" / "opensid"
CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


def _plain(value: Any) -> Any:
    """Parse results as JSON-able data; content hashes are checked for shape, not value."""
    if isinstance(value, ParsedItem):
        data = _plain(dataclasses.asdict(value))
        assert len(data.pop("content_hash")) == 64
        assert data.pop("spam") is False  # flagged later, by the integrity watch
        data.pop("fingerprint")  # a digest of the raw entry, checked in test_feed.py
        assert data.pop("known") is False
        assert len(data.pop("body")) <= BODY_LIMIT  # raw, for the post-body check only
        return data
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _feed(raw: bytes, base: str) -> dict[str, Any]:
    feed = parse_feed(raw, base)
    items = [canonical_item(i) for i in feed.items]
    return {"platform": feed.platform, "version": normalise_version(feed.version), "items": items}


def _home(raw: bytes, base: str) -> dict[str, Any]:
    resp = FetchResponse(base, 200, {"content-type": "text/html"}, raw)
    return {
        "detection": detect(resp),
        "visitors": parse_visitor_widget(raw),
        "links": service_links(raw, site_base(base)),
    }


PARSERS: dict[str, Callable[[bytes, str], Any]] = {
    "feed": _feed,
    "home": _home,
    "ppid": lambda raw, _: parse_ppid(raw),
    "arsip": parse_arsip,
    "sitemap": lambda raw, _: parse_sitemap(raw),
    "jsonapi_count": lambda raw, _: parse_jsonapi_count(raw),
    "pemerintah_json": lambda raw, _: parse_pemerintah_json(raw),
    "pemerintah_html": lambda raw, _: parse_pemerintah_html(raw),
    "lapak_html": lambda raw, _: parse_lapak_html(raw),
    "pengaduan_html": lambda raw, _: parse_pengaduan_html(raw),
    "pembangunan_html": lambda raw, base: parse_pembangunan_html(raw, site_base(base)),
}


def run_case(case: str) -> tuple[Any, Any]:
    """(what the parser returns now, what the golden file expects) for one case."""
    expected = json.loads((FIXTURES / f"{case}.expected.json").read_text(encoding="utf-8"))
    (raw_path,) = [p for p in FIXTURES.glob(f"{case}.*") if ".expected." not in p.name]
    try:
        got = _plain(PARSERS[expected["parser"]](raw_path.read_bytes(), expected["base_url"]))
    except ParseError as e:
        got = {"error": str(e)}
    return got, expected["result"]


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    got, expected = run_case(case)
    assert got == expected


def test_every_fixture_has_its_expected_parse() -> None:
    data = {p.name.split(".")[0] for p in FIXTURES.iterdir() if ".expected." not in p.name}
    assert data == set(CASES)
    assert len(CASES) >= 20


def test_versions_normalise_to_the_footer_form() -> None:
    cases = {
        "24.10": "24.10",
        "v24.10": "24.10",
        "2410": "24.10",
        "2410.0.0": "24.10",
        "v2508.0.0-premium": "25.08",
        "pasca-2410.0.0": "24.10",
        "21.1": "21.01",
        "24.10.0": "24.10",
        "1.0.1-beta": None,
        "2413": None,
        "12345": None,
        "": None,
        None: None,
    }
    assert {raw: normalise_version(raw) for raw in cases} == cases


def test_versions_are_kept_as_stated_and_compared_at_patch_level() -> None:
    from connectors.opensid_version import exact_version, most_exact, version_key

    cases = {
        "2410.0.0": "2410.0.0",
        "v2410.0.0": "2410.0.0",
        "pasca-2407.0.1": "2407.0.1",
        "2508.0.0-premium": "2508.0.0-premium",
        "24.10": "24.10",  # the feed's month-only current_version
        "21.1": "21.01",
        "21.01.0": "21.01",  # an old asset ?v= suffix is not a patch
        "2413.0.0": None,
        "": None,
    }
    assert {raw: exact_version(raw) for raw in cases} == cases
    assert version_key("2407.0.1") > version_key("2407.0.0") > version_key("2406.1.3")
    assert version_key("24.10") == version_key("2410.0.0")
    # The footer says the month only; an asset url of the same month names the patch.
    assert most_exact(["24.07", None, "2407.0.1"]) == "2407.0.1"
    assert most_exact(["24.07", "2406.0.0"]) == "24.07"


def test_detect_reads_feed_rights_and_session_cookies() -> None:
    feed = FetchResponse(
        "http://x.example/feed", 200, {}, (FIXTURES / "feed_2101.xml").read_bytes()
    )
    assert _plain(detect(feed)) == {"platform": "opensid", "version": "21.01", "theme": None}
    bare = b"<html><body><p>Selamat datang</p></body></html>"
    assert detect(FetchResponse("http://x.example/", 200, {}, bare)) is None
    cookie = {"set-cookie": "sidcsrf=4f2a; path=/"}
    found = detect(FetchResponse("http://x.example/", 200, cookie, bare))
    assert found is not None and (found.platform, found.version) == ("opensid", None)


def test_article_urls_have_one_canonical_form() -> None:
    forms = [
        "https://desa.example/artikel/2024/9/5/blt",
        "https://desa.example/artikel/2024/09/05/blt",
        "https://DESA.example/index.php/artikel/2024/09/05/blt/",
        "https://desa.example/index.php/first/artikel/2024/9/05/blt",
        "https://desa.example/first/artikel/2024/9/5/blt?utm=x#top",
    ]
    assert {canonical_article_url(u) for u in forms} == {
        "https://desa.example/index.php/artikel/2024/9/5/blt"
    }
    sub = "https://host.example/sid/artikel/2024/09/05/blt"
    assert canonical_article_url(sub) == "https://host.example/sid/index.php/artikel/2024/9/5/blt"
    for other in ("https://desa.example/galeri", "https://desa.example/artikel/kategori/x/2"):
        assert canonical_article_url(other) == other
    assert site_base("https://desa.example/index.php/first") == "https://desa.example"
    assert site_base("http://host.example/sid/first/") == "http://host.example/sid"


def test_sitemap_leaves_out_the_articles_already_known_in_any_url_form() -> None:
    raw = (
        b'<?xml version="1.0"?><urlset><url><loc>https://desa.example/</loc></url>'
        b"<url><loc>https://DESA.example/artikel/2024/09/05/blt</loc>"
        b"<lastmod>2024-09-05</lastmod></url>"
        b"<url><loc>https://desa.example/index.php/first/artikel/2024/9/6/rapat-rt</loc></url>"
        b"<url><loc>https://desa.example/index.php/artikel/2024/9/7/kerja-bakti</loc></url>"
        b"</urlset>"
    )
    every = parse_sitemap(raw)
    assert [i.url for i in every] == [
        "https://desa.example/index.php/artikel/2024/9/5/blt",
        "https://desa.example/index.php/artikel/2024/9/6/rapat-rt",
        "https://desa.example/index.php/artikel/2024/9/7/kerja-bakti",
    ]
    assert every[1].title == "Rapat Rt" and every[1].published_at is not None
    # The feed's articles, in their canonical form: the sitemap's other forms match them.
    known = {every[0].url, every[2].url}
    assert parse_sitemap(raw, known) == (every[1],)


def test_the_same_article_from_every_source_is_one_item() -> None:
    feed = _feed((FIXTURES / "feed_2601.xml").read_bytes(), "https://sidareja.example.desa.id/")
    arsip = parse_arsip((FIXTURES / "arsip.json").read_bytes(), "https://sidareja.example.desa.id")
    from_feed, from_arsip = feed["items"][0], arsip.items[0]
    assert (from_feed.url, from_feed.guid) == (from_arsip.url, from_arsip.guid)
    assert from_feed.content_hash == from_arsip.content_hash
    assert from_feed.published_at == from_arsip.published_at


def test_arsip_keeps_no_personal_data() -> None:
    page = parse_arsip((FIXTURES / "arsip.json").read_bytes(), "https://sidareja.example.desa.id")
    text = json.dumps(_plain(page))
    for leaked in ("operator@", "telegram", "123456789", "Budi", "081200000000", "Operator Desa"):
        assert leaked not in text


def test_pemerintah_without_any_badge_reports_no_attendance() -> None:
    page = b'<div><div><img alt="Foto A"><b>A</b></div><div><img alt="Foto B"></div></div>'
    assert parse_pemerintah_html(page) == parse_pemerintah_html(page.decode())
    officials = parse_pemerintah_html(page)
    assert (officials.count, officials.present) == (2, None)


# -- collect against a loopback site -------------------------------------------------------

Route = tuple[int, str, str]  # status, fixture name or literal body ("" = drop the connection)
JSON, HTML, XML = "application/json", "text/html; charset=UTF-8", "text/xml; charset=UTF-8"
# A 2601 site: JSON API era; lapak is not in the menu (404), ppid is broken, pengaduan fails.
SITE_2601: dict[str, Route] = {
    "/": (200, "home_esensi_2601.html", HTML),
    "/index.php/feed": (200, "feed_2601.xml", XML),
    "/index.php/ppid": (200, "ppid_malformed.json", JSON),
    "/index.php/internal_api/arsip": (200, "arsip.json", JSON),
    "/index.php/internal_api/pemerintah": (200, "pemerintah.json", JSON),
    "/index.php/internal_api/pembangunan": (200, "lapak_produk.json", JSON),
    "/index.php/internal_api/pengaduan": (500, "<h1>Database Error</h1>", HTML),
    "/index.php/layanan-mandiri/masuk": (200, "<html><footer>OpenSID v2601</footer>", HTML),
}
# A 2410 site: server-rendered pages, no JSON API, backfill from the sitemap.
SITE_2410: dict[str, Route] = {
    "/": (200, "home_esensi_2410.html", HTML),
    "/index.php/feed": (200, "feed_2410.xml", XML),
    "/index.php/ppid": (200, "ppid.json", JSON),
    "/index.php/sitemap.xml": (200, "sitemap.xml", XML),
    "/index.php/pemerintah": (200, "pemerintah_esensi.html", HTML),
    "/index.php/lapak": (200, "lapak_esensi.html", HTML),
    "/index.php/pembangunan": (200, "pembangunan_esensi.html", HTML),
    # Its article pages name their category, as published news does (opensid_confirm).
    "*article": (
        200,
        '<nav class="breadcrumb"><a href="/index.php/artikel/kategori/umum">Umum</a></nav>',
        HTML,
    ),
}
# A site whose optional endpoints drop the connection.
SITE_FLAKY: dict[str, Route] = {
    "/": (200, "home_natra_2410.html", HTML),
    "/index.php/feed": (200, "feed_2101.xml", XML),
    "/index.php/ppid": (200, "", JSON),
}
HOSTS = (
    "https://sidareja.example.desa.id",
    "https://karangsari.example.desa.id",
    "http://bokol.example.desa.id",
)


def _site(routes: dict[str, Route], base_holder: list[str]) -> Callable[..., Any]:
    async def serve(
        method: str, path: str, headers: dict[str, str], w: asyncio.StreamWriter
    ) -> None:
        status, source, kind = routes.get(path.split("?")[0], (404, "<h1>404</h1>", HTML))
        if status == 404 and path.startswith("/index.php/artikel/") and "*article" in routes:
            status, source, kind = routes["*article"]  # any article page the site has
        if not source:
            w.close()
            return
        fixture = FIXTURES / source
        body = fixture.read_bytes() if fixture.suffix and fixture.exists() else source.encode()
        for host in HOSTS:  # the fixtures name their own host: serve them as this site
            body = body.replace(host.encode(), base_holder[0].encode())
        extra = {"etag": '"feed-1"'} if path == "/index.php/feed" else {}
        if extra and headers.get("if-none-match") == '"feed-1"':
            w.write(response(304, b"", extra))
            return
        w.write(response(status, body, {"content-type": kind, **extra}))

    return serve


async def _polls(routes: dict[str, Route], count: int = 1) -> list[tuple[Harvest, list[str]]]:
    """Poll the loopback site `count` times, each poll remembering what the last one stored
    (feed url, validators), as the store does; returns each harvest and the paths it asked."""
    holder = [""]
    results: list[tuple[Harvest, list[str]]] = []
    settings = Settings(allow_private_addresses=True)
    async with RawServer(_site(routes, holder)) as srv, Fetcher(settings) as fetcher:
        holder[0] = srv.url
        feed_url: str | None = None
        validators: dict[str, dict[str, str]] = {}
        for _ in range(count):
            village = VillageForPoll("33.03.05.2011", srv.url + "/", "opensid", feed_url=feed_url)
            http = VillageHttp(fetcher, validators)
            seen = len(srv.requests)
            harvest = await OpenSIDConnector().collect(village, http)
            paths = [path for _, path, _ in srv.requests[seen:]]
            assert len(paths) == len(set(paths))  # each url at most once
            results.append((harvest, paths))
            feed_url, validators = harvest.feed_url, http.validators
    return results


def test_collect_first_poll_survives_broken_endpoints() -> None:
    ((harvest, paths),) = asyncio.run(_polls(SITE_2601))
    base = harvest.feed_url.removesuffix("/index.php/feed") if harvest.feed_url else ""
    assert (harvest.platform, harvest.version) == ("opensid", "2601.0.0")
    assert base.startswith("http://127.0.0.1:") and not harvest.not_modified
    # The feed's 2 items, then the one news item of the arsip backfill the feed lacks.
    urls = [i.url for i in harvest.items]
    assert urls == [
        f"{base}/index.php/artikel/2026/1/7/rapat-koordinasi-bpd",
        f"{base}/index.php/artikel/2025/12/24/jadwal-pelayanan-libur-akhir-tahun",
        f"{base}/index.php/artikel/2025/9/9/gotong-royong-perbaikan-jalan",
    ]
    assert all(i.guid == i.url for i in harvest.items)
    services = {s.kind: s for s in harvest.services}
    assert (services["pemerintah"].available, services["pemerintah"].count) == (True, 5)
    assert (services["pembangunan"].available, services["pembangunan"].count) == (True, 23)
    assert services["lapak"].available is False
    assert services["statistik"].available and services["statistik"].url
    assert services["layanan_mandiri"].available
    assert "ppid" not in services  # malformed: unknown this time
    # A 500 is a published page that is broken, not an unknown one.
    assert (services["pengaduan"].available, services["pengaduan"].error) == (True, "HTTP 500")
    assert services["pengaduan"].count is None
    assert harvest.metrics == {
        "visitors_today": 21.0,
        "visitors_yesterday": 64.0,
        "visitors_total": 48211.0,
        "articles_total": 94.0,
        "officials_present": 2.0,
    }
    assert set(harvest.notes) == {
        "ppid: malformed JSON",
        "lapak: not published (HTTP 404)",
        "pengaduan: HTTP 500",
        "arsip: page 2 repeats page 1 (pagination ignored)",
        "backfill: 1 older article from internal_api/arsip",
    }
    # 9 poll requests, then 2 arsip pages (the fixture answers every page alike).
    assert len(paths) == 11
    assert not [p for p in paths if "internal_api" not in p and p.split("?")[0] not in SITE_2601]


def test_collect_later_poll_is_conditional_and_still_reads_services() -> None:
    _, (harvest, paths) = asyncio.run(_polls(SITE_2601, count=2))
    assert harvest.not_modified and harvest.items == ()
    assert harvest.metrics["visitors_today"] == 21.0
    assert {s.kind for s in harvest.services} >= {"pemerintah", "pembangunan", "statistik"}
    assert not any("number" in p for p in paths)  # no backfill once a feed is remembered
    assert len(paths) == 9


def test_collect_server_rendered_release_with_sitemap_backfill() -> None:
    ((harvest, paths),) = asyncio.run(_polls(SITE_2410))
    assert harvest.version == "2410.0.0"
    assert not any("internal_api" in p for p in paths)  # 2410 predates the JSON API
    counts = {s.kind: (s.available, s.count) for s in harvest.services}
    assert counts == {
        "ppid": (True, 3),
        "pemerintah": (True, 4),
        "lapak": (True, 3),
        # 2410 answers 404 for a page the web menu does not link (real recordings): the
        # menu links neither, so neither is asked (this site would serve pembangunan).
        "pembangunan": (False, None),
        "pengaduan": (False, None),
        "statistik": (False, None),  # linked, but its page 404s on this site
        "layanan_mandiri": (True, None),  # linked from the menu: not fetched
    }
    assert harvest.metrics == {
        "visitors_today": 37.0,
        "visitors_yesterday": 152.0,
        "visitors_total": 12345.0,
        "officials_present": 2.0,
    }
    # Feed items first; the sitemap adds the 3 articles the feed lacks, newest first.
    titles = [i.title for i in harvest.items]
    assert titles[2:] == [
        "Pelatihan Kader Posyandu",
        "Pembagian Bibit Kelapa Rt 03",
        "Sosialisasi Pajak&bumi",
    ]
    assert len({i.url for i in harvest.items}) == 5
    assert harvest.notes == (
        "statistik: not published (HTTP 404)",
        "backfill: 3 older articles from sitemap.xml, each confirmed by its page",
    )
    assert not any(p.startswith(("/index.php/pembangunan", "/index.php/pengaduan")) for p in paths)
    # The statistik page; the archive listing (not served by this site, so the three
    # sitemap-only articles are confirmed by their pages instead) and those three pages.
    assert "/index.php/arsip" in paths
    assert len(paths) == 7 + 1 + 3


def test_a_first_poll_holds_only_the_scans_share_of_the_pages_it_confirmed() -> None:
    """A back catalogue is confirmed page by page; each page's body is let go once judged,
    but for the first SCAN_ITEM_PAGES news pages, which the integrity scan beside the poll
    reads instead of asking again (VillageHttp.read)."""

    async def run() -> tuple[list[str], list[str], list[str]]:
        holder = [""]
        settings = Settings(allow_private_addresses=True)
        async with RawServer(_site(SITE_2410, holder)) as srv, Fetcher(settings) as fetcher:
            holder[0] = srv.url
            http = VillageHttp(fetcher, {})
            village = VillageForPoll("33.03.05.2011", srv.url + "/", "opensid")
            harvest = await OpenSIDConnector().collect(village, http)
            confirmed = [i.url for i in harvest.items if i.source == "page"]
            asked = [path for _, path, _ in srv.requests if "/artikel/" in path]
            return confirmed, [r.url for r in http.read(set(confirmed))], asked

    confirmed, kept, asked = asyncio.run(run())
    assert len(confirmed) == len(asked) == 3  # all three stored, each page asked once
    assert kept == confirmed[:SCAN_ITEM_PAGES]


def test_collect_skips_optional_endpoints_after_a_network_failure() -> None:
    ((harvest, paths),) = asyncio.run(_polls(SITE_FLAKY))
    assert len(harvest.items) == 2 and harvest.version == "2410.0.0"
    assert harvest.metrics["visitors_total"] == 23456.0
    (note,) = harvest.notes
    assert note.startswith("ppid: ") and note.endswith("(later endpoints skipped)")
    assert [p.split("?")[0] for p in paths] == ["/", "/index.php/feed", "/index.php/ppid"]


def test_collect_raises_when_the_home_page_fails() -> None:
    async def run() -> None:
        async def down(method: str, path: str, h: dict[str, str], w: asyncio.StreamWriter) -> None:
            w.write(response(500, b"Database Error"))

        async with RawServer(down) as srv, Fetcher(Settings(allow_private_addresses=True)) as f:
            village = VillageForPoll("33.03.05.2011", srv.url + "/", "opensid")
            await OpenSIDConnector().collect(village, VillageHttp(f, {}))

    with pytest.raises(FetchError, match="HTTP 500"):
        asyncio.run(run())


def test_feed_times_at_utc_are_read_as_the_village_local_time() -> None:
    """A php.ini left at UTC prints WIB digits with +0000 (real 2310-2410); a server set to
    another zone on purpose (+0800) is believed."""
    from connectors.opensid import _Poll

    def feed(offset: str) -> bytes:
        return (
            "<rss><channel><item><title>Musdes</title><link>http://x/index.php/artikel/2026/12/4/m"
            f"</link><pubDate>Fri, 04 Dec 2026 09:30:00 {offset}</pubDate></item></channel></rss>"
        ).encode()

    home = FetchResponse("http://x/", 200, {}, b"")
    wib = timezone(timedelta(hours=7))
    cases = {"+0000": 9, "+0700": 9, "+0800": 8}  # hour (WIB) each reading should give
    for offset, hour in cases.items():
        want = datetime(2026, 12, 4, hour, 30, tzinfo=wib)
        poll = _Poll(VillageForPoll("33.03.05.2011", "http://x/", "opensid"), None, home)  # type: ignore[arg-type]
        raw = feed(offset)
        items = tuple(canonical_item(i) for i in parse_feed(raw, "http://x/").items)
        (item,) = poll.local_times(raw, items)
        assert item.published_at == want, (offset, item.published_at)
        assert bool(poll.notes) == (offset == "+0000")
