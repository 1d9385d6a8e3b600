"""A back catalogue read from OpenSID's archive listing, recorded from a real 2410 with 74
published articles (tests/fixtures/opensid_real/2410/catalogue): 20 rows a page, static pages
listed and drafts not, the pagers' `first/arsip/N` a 404. A first poll settles the
sitemap-only articles a page of 20 at a time instead of asking for each article's page."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.cli import poll_once
from aggregator.settings import parse_config
from aggregator.store import Store
from connectors.normalise import WIB
from connectors.opensid_arsip import parse_listing
from tests.opensid_replay import REAL, Replay, truth
from tests.test_opensid_real import _config

CODE = "33.03.11.2005"
BASE = "http://127.0.0.1:8241"
THEMES = ["natra", "esensi"]


def _truth() -> dict[str, Any]:
    return truth("2410-catalogue-natra")


def _day(article: dict[str, Any]) -> date:
    return date.fromisoformat(str(article["local_datetime"])[:10])


@pytest.mark.parametrize("theme", THEMES)
def test_the_listing_reads_every_row_of_the_real_archive(theme: str) -> None:
    folder = REAL / "2410" / "catalogue" / theme
    t = _truth()
    rows = []
    for name, size in (("arsip", 20), ("arsip_2", 20), ("arsip_3", 20), ("arsip_4", 14)):
        listing = parse_listing((folder / f"{name}.html").read_bytes(), BASE)
        assert len(listing.items) == size, name
        assert listing.last_page == 4, name
        rows += listing.items
    # Every published article and the static page, newest first; no draft, nothing future.
    listed = [*t["published_articles"], t["static_page"]]
    listed.sort(key=lambda a: str(a["local_datetime"]), reverse=True)
    assert [i.title for i in rows] == [a["title"] for a in listed]
    assert [i.url for i in rows] == [BASE + a["url"] for a in listed]
    assert [i.published_at.date() if i.published_at else None for i in rows] == [
        _day(a) for a in listed
    ]
    assert all(i.source == "arsip" and i.summary == "" for i in rows)
    # Past the last page the release answers 500; the home page's lists are not the archive.
    assert parse_listing((folder / "arsip_5.html").read_bytes(), BASE).items == ()
    assert parse_listing((folder / "home.html").read_bytes(), BASE).items == ()
    page = (folder / "arsip.html").read_bytes()
    pager = re.findall(rb'href="[^"]*?/index\.php/(first/)?arsip/(\d+)"', page)
    assert pager and all(first == b"first/" for first, _n in pager)  # the broken link form


def _first_poll(tmp: Path, name: str, edit: Any = None) -> tuple[Store, Replay]:
    async def run() -> tuple[Store, Replay]:
        async with Replay(name, edit) as site:
            config = parse_config(_config(site.url))
            store = Store(f"sqlite:///{tmp}/arsip.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            await poll_once(config, store)
            return store, site

    return asyncio.run(run())


@pytest.mark.parametrize("theme", THEMES)
def test_a_first_poll_takes_the_back_catalogue_from_the_archive(tmp_path: Path, theme: str) -> None:
    store, site = _first_poll(tmp_path, f"2410-catalogue-{theme}")
    t = _truth()
    news = store.news(village=CODE, limit=500)
    published = {a["title"]: a for a in t["published_articles"]}
    assert {n["title"] for n in news} == set(published)  # 73: 50 from the feed, 23 older
    assert t["static_page"]["title"] not in {n["title"] for n in news}
    by_source = {n["source"] for n in news if n["source"] != "feed"}
    assert by_source == {"arsip"}
    older = [n for n in news if n["source"] == "arsip"]
    assert len(older) == len(published) - t["feed_items_expected"]
    for n in older:  # the archive shows the day only
        stated = datetime.fromisoformat(str(n["published_at"])).astimezone(WIB)
        assert stated.date() == _day(published[n["title"]]), n["title"]
    # The sitemap lists 26 articles the feed lacks; four archive pages settle them all,
    # and no article page is asked for.
    archive = [p for p in site.requests if "arsip" in p]
    assert archive == [
        "/index.php/arsip",
        "/index.php/arsip/2",
        "/index.php/arsip/3",
        "/index.php/arsip/4",
    ]
    assert not [p for p in site.requests if "/artikel/" in p]
    detail = store.village_detail(CODE)
    assert detail is not None and detail["last_check_ok"] and detail["news_count"] == 73
    store.close()


def test_pages_the_feed_already_covers_are_not_read(tmp_path: Path) -> None:
    """Without the recent draft, static page and uncategorised article in its sitemap, the
    newest sitemap-only article is older than all fifty of the feed's: the archive is read
    from the page that holds the 51st article on."""
    t = _truth()
    recent = [t["draft"]["url"], t["static_page"]["url"]]
    recent += [a["url"] for a in t["published_articles"] if a["category"] is None]

    def edit(path: str, body: bytes) -> bytes:
        if not path.endswith("/sitemap.xml"):
            return body
        for url in recent:
            body = re.sub(
                rb"<url>\s*<loc>[^<]*" + re.escape(url.encode()) + rb"</loc>.*?</url>",
                b"",
                body,
                flags=re.S,
            )
        return body

    store, site = _first_poll(tmp_path, "2410-catalogue-natra", edit)
    archive = [p for p in site.requests if "arsip" in p]
    assert archive == ["/index.php/arsip/3", "/index.php/arsip/4"]
    titles = {n["title"] for n in store.news(village=CODE, limit=500)}
    categorised = {a["title"] for a in t["published_articles"] if a["category"] is not None}
    assert titles == categorised  # the uncategorised one is on page 1, which was not read
    store.close()


def test_an_archive_it_cannot_read_leaves_the_articles_to_their_pages(tmp_path: Path) -> None:
    """A theme whose archive markup is not a bundled theme's costs one request; the
    sitemap-only articles are then confirmed by their own page as before."""

    def edit(path: str, body: bytes) -> bytes:
        return b"<html><body><p>Arsip</p></body></html>" if "arsip" in path else body

    store, site = _first_poll(tmp_path, "2410-catalogue-esensi", edit)
    assert [p for p in site.requests if "arsip" in p] == ["/index.php/arsip"]
    asked = [p for p in site.requests if "/artikel/" in p]
    assert len(asked) == 26 - 1  # every sitemap-only article not dated in the future
    store.close()


def test_two_sitemap_only_articles_are_read_by_page_and_shared_with_the_scan(
    tmp_path: Path,
) -> None:
    """With no more sitemap-only articles than the integrity scan reads (two), they are
    confirmed by their page, and the scan beside the poll reads those pages instead of
    asking again (real 2410 natra, its sitemap cut to the uncategorised article and the
    draft)."""
    t = truth("2410-natra")
    keep = {"ucapan-selamat-hari-jadi-kabupaten-purbalingga", "draf-rencana-pembangunan-jalan"}
    dropped = [t["static_page"]["url"], t["published_articles"][6]["url"]]  # type: ignore[index]
    assert not any(k in u for k in keep for u in dropped)

    def edit(path: str, body: bytes) -> bytes:
        if not path.endswith("/sitemap.xml"):
            return body
        for url in dropped:
            path_only = url.split("8241", 1)[1].encode()
            pattern = rb"<url>\s*<loc>[^<]*" + re.escape(path_only) + rb"</loc>.*?</url>"
            body = re.sub(pattern, b"", body, flags=re.S)
        return body

    async def run() -> Replay:
        async with Replay("2410-natra", edit) as site:
            text = _config(site.url).replace("integrity_watch: false", "integrity_watch: true")
            config = parse_config(text)
            store = Store(f"sqlite:///{tmp_path}/shared.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            await poll_once(config, store)
            store.close()
            return site

    site = asyncio.run(run())
    articles = [p for p in site.requests if "/artikel/" in p]
    assert not [p for p in site.requests if "arsip" in p]  # two: no listing
    assert any(p.endswith("/ucapan-selamat-hari-jadi-kabupaten-purbalingga") for p in articles)
    assert any("draf-rencana" in p for p in articles)
    assert len(articles) == len(set(articles)), articles  # the scan asked none of them again
    assert len(articles) == 3, articles  # the two confirmed, and one feed article for the scan


@pytest.mark.parametrize("release", ["2312", "2310"])
def test_the_listing_reads_the_older_releases_archive_too(release: str) -> None:
    """Recorded 2312 and 2310 archive pages (one page each: their sites hold fewer than 20
    articles) read the same way: the published articles and the static page, no draft."""
    t = truth(release)
    page = (REAL / release / "arsip.html").read_bytes()
    base = "http://127.0.0.1:" + page.split(b"http://127.0.0.1:", 1)[1][:4].decode()
    listing = parse_listing(page, base)
    titles = {i.title for i in listing.items}
    published = {str(a["title"]) for a in t["published"]}  # type: ignore[attr-defined]
    assert titles == published | {t["static_page"]["title"]}  # type: ignore[index]
    assert t["draft"]["title"] not in titles  # type: ignore[index]
    assert listing.last_page is None  # one page: no pager


def _rows_2312() -> list[dict[str, str]]:
    import csv

    path = REAL / "2312" / "catalogue" / "artikel.tsv"
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_a_real_2312_archive_pages_the_same_way() -> None:
    """Recorded on a real 2312 (esensi v22.11) with 60 published articles and a draft: 20 a
    page, a 500 past the last; there the pagers' first/arsip/N still answers, with the same
    rows as arsip/N."""
    folder = REAL / "2312" / "catalogue"
    base = "http://127.0.0.1:8232"
    pages = [parse_listing((folder / f"{n}.html").read_bytes(), base) for n in
             ("arsip", "arsip_2", "arsip_3")]  # fmt: skip
    assert [len(p.items) for p in pages] == [20, 20, 20]
    assert {p.last_page for p in pages} == {3}
    published = [r for r in _rows_2312() if r["enabled"] == "1"]
    assert [i.title for p in pages for i in p.items] == [r["judul"] for r in published]
    assert parse_listing((folder / "arsip_4.html").read_bytes(), base).items == ()
    pager = parse_listing((folder / "first_arsip_2.html").read_bytes(), base)
    assert [i.url for i in pager.items] == [i.url for i in pages[1].items]


def test_a_first_poll_of_a_real_2312_takes_its_back_catalogue_from_the_archive(
    tmp_path: Path,
) -> None:
    store, site = _first_poll(tmp_path, "2312-catalogue")
    published = {r["judul"] for r in _rows_2312() if r["enabled"] == "1"}
    news = store.news(village=CODE, limit=500)
    assert {n["title"] for n in news} == published  # 50 from the feed, 10 older; no draft
    assert sum(n["source"] == "arsip" for n in news) == len(published) - 50
    archive = [p for p in site.requests if "arsip" in p]
    assert archive == ["/index.php/arsip", "/index.php/arsip/2", "/index.php/arsip/3"]
    assert not [p for p in site.requests if "/artikel/" in p]
    store.close()
