"""Sipande against pages recorded from real OpenSID releases (2310, 2312, 2410; see
tests/fixtures/opensid_real/README.md): only published news counts, the exact version is
read, the feed's UTC times are read as local time, and empty service pages score nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aggregator.cli import poll_once
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.web import create_app
from connectors.normalise import WIB
from tests.conftest import LiveServer
from tests.opensid_replay import REAL, Replay, truth


def _config(url: str) -> str:
    return (
        'kabupaten: {code: "33.03", name: Purbalingga}\n'
        "settings: {allow_private_addresses: true, request_timeout: 5s, integrity_watch: false,"
        " first_read_spread: 0}\n"
        "kecamatan:\n"
        '  - code: "33.03.11"\n'
        "    name: Kalimanah\n"
        "    villages:\n"
        f'      - {{code: "33.03.11.2005", name: Karangsari, url: "{url}"}}\n'
    )


def _poll(tmp: Path, name: str) -> tuple[Store, Replay]:
    async def run() -> tuple[Store, Replay]:
        async with Replay(name) as site:
            config = parse_config(_config(site.url))
            store = Store(f"sqlite:///{tmp}/real.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            await poll_once(config, store)
            store.score_all(datetime.now(UTC))
            return store, site

    return asyncio.run(run())


def _published(name: str) -> list[dict[str, Any]]:
    t = truth(name)
    return list(t.get("published_articles") or t["published"])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["2410-natra", "2410-esensi", "2312", "2310"])
def test_only_published_news_counts_on_a_real_release(tmp_path: Path, name: str) -> None:
    store, _site = _poll(tmp_path, name)
    t = truth(name)
    code = "33.03.11.2005"
    detail = store.village_detail(code)
    assert detail is not None and detail["last_check_ok"], detail
    assert detail["platform"] == "opensid"
    release = str(t["release"])  # "2410.0.0"; the 23xx truth files say "2312"
    assert detail["platform_version"] == (release if "." in release else f"{release}.0.0")
    news = store.news(village=code, limit=100)
    titles = {n["title"] for n in news}
    published = {str(a["title"]) for a in _published(name)}
    draft, static = t["draft"]["title"], t["static_page"]["title"]  # type: ignore[index]
    assert draft not in titles and static not in titles
    assert titles == published, (sorted(titles), sorted(published))
    assert detail["news_count"] == len(published)
    # The draft's and the static page's urls are never news, however they were learnt.
    urls = {n["url"].rsplit("/", 1)[-1] for n in news}
    assert t["draft"]["url"].rsplit("/", 1)[-1] not in urls  # type: ignore[index]
    assert all(n["source"] in ("feed", "page", "arsip") for n in news)
    # Times are the village's local time, whatever offset php.ini gave the feed.
    local = {
        str(a["title"]): str(a.get("published_local") or a.get("local_datetime"))[:19]
        for a in _published(name)
    }
    for n in news:
        stamp = datetime.fromisoformat(n["published_at"]).astimezone(WIB)
        want = datetime.fromisoformat(local[n["title"]]).replace(tzinfo=WIB)
        if n["source"] == "feed":
            assert stamp == want, (n["title"], stamp, want)
        else:  # learnt from the sitemap: the day of its url
            assert stamp.date() == want.date(), (n["title"], stamp, want)
    store.close()


def test_a_fresh_install_gets_no_points_for_empty_service_pages(tmp_path: Path) -> None:
    store, _site = _poll(tmp_path, "2410-empty-natra")
    code = "33.03.11.2005"
    detail = store.village_detail(code)
    assert detail is not None
    states = {s["kind"]: s["state"] for s in detail["services"]}
    kinds = ("lapak", "ppid", "pemerintah", "pembangunan", "pengaduan", "statistik")
    for kind in (*kinds, "layanan_mandiri"):  # nobody to sign in: no resident recorded
        assert states[kind] == "kosong", (kind, states)
    component = next(c for c in detail["score_components"] if c["key"] == "services")
    assert component["value"] == 0 and "Lapak" in component["reason"]
    # The village page says which services are empty.
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        page = httpx.get(f"{srv.url}/desa/{code}").text
    services = page.split('id="services"')[1].split("</table>")[0]
    assert services.count('data-state="kosong"') == 7 and "ada, kosong" in services
    store.close()
    # The same release filled: every service has content.
    store, _site = _poll(tmp_path / "filled", "2410-natra")
    detail = store.village_detail(code)
    assert detail is not None
    assert {s["kind"]: s["state"] for s in detail["services"]} == dict.fromkeys(
        (*kinds, "layanan_mandiri"), "berisi"
    )
    store.close()


def test_esensi_service_pages_that_answer_500_are_shown_broken(tmp_path: Path) -> None:
    """Real 2410 with its bundled esensi theme answers 500 on lapak, pemerintah, pembangunan
    and pengaduan, content or not (the theme lacks their views). Read every day, they are
    shown as published but broken, score nothing, and the village page says why."""
    store, site = _poll(tmp_path, "2410-esensi")
    code = "33.03.11.2005"
    broken = ("lapak", "pemerintah", "pembangunan", "pengaduan")
    for kind in broken:  # what the recording says the release answered
        assert site.pages[f"/index.php/{kind}"]["status"] == 500, kind
    detail = store.village_detail(code)
    assert detail is not None and detail["last_check_ok"]
    states = {s["kind"]: (s["state"], s["error"]) for s in detail["services"]}
    for kind in broken:
        assert states[kind] == ("rusak", "HTTP 500"), (kind, states)
    assert states["ppid"] == ("berisi", None) and states["statistik"] == ("berisi", None)
    component = next(c for c in detail["score_components"] if c["key"] == "services")
    assert "Lapak" in component["reason"]  # broken: no points for it
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        page = httpx.get(f"{srv.url}/desa/{code}").text
        matrix = httpx.get(f"{srv.url}/kecamatan/33.03.11").text
    services = page.split('id="services"')[1].split("</table>")[0]
    assert services.count('data-state="rusak"') == 4 and "ada, rusak (HTTP 500)" in services
    assert matrix.count('data-state="rusak"') == 4 and "✗ rusak" in matrix
    store.close()


def test_service_pages_the_menu_does_not_link_are_not_asked_on_2410(tmp_path: Path) -> None:
    """Real 2310-2410 answer 404 for lapak, pembangunan, pengaduan, pemerintah and statistik
    until the web menu links them (recorded: 2410 fresh, 23xx extra/*_off.html). The poll
    reads the menu on the home page and records those as not published without asking
    (natra links a statistik page from its own template: that one is asked, and 404s)."""
    gated = ("/lapak", "/pembangunan", "/pengaduan", "/pemerintah")
    store, site = _poll(tmp_path, "2410-fresh-natra")
    asked = [p for p in site.requests if p.removeprefix("/index.php").startswith(gated)]
    assert asked == [], asked
    detail = store.village_detail("33.03.11.2005")
    assert detail is not None and detail["last_check_ok"]
    states = {s["kind"]: s["state"] for s in detail["services"]}
    for kind in ("lapak", "pembangunan", "pengaduan", "pemerintah", "statistik"):
        assert states[kind] == "tidak_ada", (kind, states)
    assert states["ppid"] != "tidak_ada" and states["layanan_mandiri"] != "tidak_ada", states
    store.close()
    # The recorded pages do answer 404 there: what the poll would have been told.
    for path in ("/index.php/lapak", "/index.php/pemerintah", "/index.php/pengaduan"):
        assert site.pages[path]["status"] == 404, path
    # Where the menu links them (the same release filled), every one is read.
    _store, filled = _poll(tmp_path / "filled", "2410-natra")
    read = {p for p in filled.requests if p.removeprefix("/index.php").startswith(gated)}
    assert len(read) == len(gated), read
    assert any(p.endswith("/data-statistik/jenis-kelamin") for p in filled.requests)
    _store.close()


def test_a_hidden_link_block_in_a_sitemap_only_article_page_is_checked() -> None:
    """An article learnt from the sitemap is confirmed by its page; that page's body goes to
    the post-body check like a feed's content:encoded (real 2410 natra and esensi markup)."""
    from aggregator.integrity.detect import analyse_body
    from connectors.opensid_confirm import NEWS, Menu, verdict

    hidden = (
        '<div style="display:none"><a href="https://slotgacor-maxwin88.example/">slot gacor '
        'maxwin</a> <a href="https://togel88.example/">togel online</a> '
        '<a href="https://judi-bola.example/">judi bola terpercaya</a></div>'
    )
    for theme, marker in (("natra", '<div class="teks">'), ("esensi", '<div class="content')):
        path = REAL / "2410" / "filled" / theme / "article_no_category.html"
        page = path.read_text(encoding="utf-8")
        assert marker in page, theme
        at = page.index(marker)
        at = page.index(">", at) + 1
        hostile = (page[:at] + hidden + page[at:]).encode()
        url = "http://127.0.0.1:8241/index.php/artikel/2026/11/25/ucapan"
        kind, _title, body = verdict(hostile, url, Menu())
        assert kind == NEWS and "slotgacor-maxwin88.example" in body, theme
        codes = {s.code for s in analyse_body(body, url, site_host="127.0.0.1")}
        assert "hidden_link_block" in codes, (theme, codes)
        _kind, _title, clean = verdict(page.encode(), url, Menu())
        assert not analyse_body(clean, url, site_host="127.0.0.1"), theme


@pytest.mark.parametrize("where", ["2310", "2312", "2410/filled/natra", "2410/filled/esensi"])
def test_each_recorded_release_and_theme_reads_as_draft_static_or_news(where: str) -> None:
    """The page verdict on the real pages themselves: a draft's soft 404 (natra, esensi and
    the older message), a static page its menu links, a published article."""
    from connectors.opensid_confirm import DRAFT, NEWS, STATIC, menu_pages, verdict

    folder = REAL / where
    home = (folder / "home.html").read_bytes()
    base = "http://127.0.0.1:" + home.split(b"http://127.0.0.1:", 1)[1][:4].decode()
    menu = menu_pages(home, base)
    static = (folder / "static_page.html").read_bytes()
    static_url = _page_url(folder, "static_page") or f"{base}/index.php/artikel/1"
    assert verdict((folder / "draft.html").read_bytes(), f"{base}/x", menu)[0] == DRAFT
    assert verdict(static, static_url, menu)[0] == STATIC
    kind, title, _body = verdict((folder / "article.html").read_bytes(), f"{base}/y", menu)
    assert kind == NEWS and title


def _page_url(folder: Path, name: str) -> str | None:
    """The url a recording says a page was served at, where its index records one."""
    import json

    for index in ("index.json", "responses.json"):
        if (folder / index).exists():
            data = json.loads((folder / index).read_text(encoding="utf-8"))
            entry = data.get(name) if isinstance(data, dict) else None
            if isinstance(entry, dict) and isinstance(entry.get("url"), str):
                return str(entry["url"])
    return None
