"""Feed connector parsing on saved feeds (golden pairs: <case>.xml + <case>.expected.json)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest

from aggregator.errors import ParseError
from aggregator.fetch.client import Fetcher
from aggregator.poll.village_http import VillageHttp
from aggregator.settings import Settings
from aggregator.types import BODY_LIMIT, VillageForPoll
from connectors.feed import (
    decode_lenient,
    discover_feeds,
    html_to_text,
    join_link,
    looks_like_feed,
    parse_feed,
    read_feed,
    repair_encoding,
)
from connectors.feed_site import FeedConnector
from connectors.normalise import normalise_url
from tests.conftest import RawServer, response

FIXTURES = Path(__file__).parent / "fixtures" / "feed"
CASES = sorted(p.stem for p in FIXTURES.glob("*.xml"))


def _unmarked(feed: Any) -> Any:
    return dataclasses.replace(
        feed, items=tuple(dataclasses.replace(i, fingerprint="") for i in feed.items)
    )


def _as_json(parsed: Any) -> dict[str, Any]:
    data = dataclasses.asdict(parsed)
    data["items"] = list(data["items"])
    for item in data["items"]:
        item["published_at"] = item["published_at"].isoformat() if item["published_at"] else None
        assert len(item.pop("content_hash")) == 64
        assert item.pop("spam") is False  # flagged later, by the integrity watch
        assert len(item.pop("fingerprint")) == 16  # of the raw entry, for the next poll
        assert item.pop("known") is False  # nothing known: every entry normalised
        assert item.pop("source") == "feed"  # a feed lists published items only
        assert len(item.pop("body")) <= BODY_LIMIT  # raw, for the post-body check only
    return data


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    expected = json.loads((FIXTURES / f"{case}.expected.json").read_text(encoding="utf-8"))
    base_url = expected.pop("base_url")
    parsed = parse_feed((FIXTURES / f"{case}.xml").read_bytes(), base_url)
    assert _as_json(parsed) == expected


def test_every_item_date_is_timezone_aware() -> None:
    for case in CASES:
        parsed = parse_feed((FIXTURES / f"{case}.xml").read_bytes(), "https://x.example/")
        for item in parsed.items:
            assert item.published_at is not None and item.published_at.utcoffset() is not None


def test_opensid_quirks_bom_no_declaration_lowercase_pubdate_double_escape() -> None:
    raw = (FIXTURES / "opensid_2101_quirks.xml").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf<rss")
    parsed = parse_feed(raw, "http://bokol.example.desa.id/index.php/feed")
    first = parsed.items[0]
    assert first.title == "Musyawarah Desa Penyusunan RKPDes 2022 & Evaluasi APBDes"
    assert first.guid is None  # no <guid> before v22.06: dedup falls back to the url
    assert (
        first.published_at is not None
        and first.published_at.isoformat() == "2021-01-15T06:30:00+00:00"
    )
    assert (parsed.platform, parsed.version) == ("opensid", "21.01")


def test_hostile_markup_is_reduced_to_text() -> None:
    parsed = parse_feed((FIXTURES / "opensid_2410.xml").read_bytes(), "https://k.example/feed")
    for item in parsed.items:
        for text in (item.title, item.summary):
            assert "<" not in text.replace("<Elektronik>", "") and "alert" not in text
    assert html_to_text("<p>a<script>alert(1)</script> b &amp;amp; c</p>") == "a b & c"


def test_same_content_same_hash_different_content_different_hash() -> None:
    raw = (FIXTURES / "opensid_2410.xml").read_bytes()
    a = parse_feed(raw, "https://k.example/feed")
    b = parse_feed(raw, "https://k.example/feed")
    assert [i.content_hash for i in a.items] == [i.content_hash for i in b.items]
    edited = parse_feed(raw.replace(b"48 keluarga", b"49 keluarga"), "https://k.example/feed")
    assert edited.items[0].content_hash != a.items[0].content_hash
    assert edited.items[1].content_hash == a.items[1].content_hash


def test_not_a_feed_is_a_parse_error() -> None:
    raw = (FIXTURES / "not_a_feed.html").read_bytes()
    assert not looks_like_feed(raw)
    with pytest.raises(ParseError, match="not an RSS/Atom feed"):
        parse_feed(raw, "https://x.example/")
    with pytest.raises(ParseError):
        parse_feed(b"", "https://x.example/")


def test_discovery_reads_alternate_links_relative_to_base() -> None:
    page = b"""<html><head><base href="https://desa.example/sub/">
    <link rel="stylesheet" href="a.css">
    <link rel="alternate" type="application/rss+xml" title="Feed" href="index.php/feed">
    <link rel="Alternate" type="application/atom+xml" href="https://desa.example/atom.xml">
    <link rel="alternate" type="text/html" hreflang="en" href="/en/">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    </head><body></body></html>"""
    assert discover_feeds(page, "https://desa.example/") == [
        "https://desa.example/sub/index.php/feed",
        "https://desa.example/atom.xml",
    ]


# More golden pairs, read with `read_feed` so the notes are part of the expected parse. They
# are not `.xml`, so the cases above (every item dated) keep their own set.
MORE_CASES = sorted(
    p.name
    for p in FIXTURES.iterdir()
    if p.suffix in (".rss", ".rdf", ".atom", ".json") and not p.name.endswith(".expected.json")
)


@pytest.mark.parametrize("name", MORE_CASES)
def test_golden_more(name: str) -> None:
    case = name.rsplit(".", 1)[0]
    expected = json.loads((FIXTURES / f"{case}.expected.json").read_text(encoding="utf-8"))
    base_url = expected.pop("base_url")
    raw = (FIXTURES / name).read_bytes()
    assert looks_like_feed(raw)
    parsed, notes = read_feed(raw, base_url)
    assert {**_as_json(parsed), "notes": list(notes)} == expected
    for item in parsed.items:
        assert item.published_at is None or item.published_at.utcoffset() is not None


def test_broken_encodings_come_out_right() -> None:
    want = "Iuran Sampah Rp 5.000 – “Bantuan”"
    for name in ("cp1252_declared.rss", "utf8_mislabelled.rss"):
        raw = (FIXTURES / name).read_bytes()
        assert want.encode("cp1252") in raw and want.encode() not in raw
        assert parse_feed(raw, "https://x.example/feed").items[0].title == want
    mixed = parse_feed((FIXTURES / "utf8_mislabelled.rss").read_bytes(), "https://x.example/")
    assert mixed.title == "Desa Bumisari · Kec. Bojongsari"  # the real UTF-8 is kept
    # Labelled windows-1252 but really UTF-8: the bytes win over the label.
    utf8 = (FIXTURES / "cp1252_declared.rss").read_bytes().decode("cp1252").encode()
    fixed, note = repair_encoding(utf8)
    assert note == "feed declares windows-1252 but is UTF-8" and b'encoding="utf-8"' in fixed
    assert parse_feed(utf8, "https://x.example/").items[0].title == want


def test_decode_lenient_keeps_utf8_and_reads_stray_bytes_as_cp1252() -> None:
    assert decode_lenient("ā “x” ".encode() + b"\x93y\x94 \x96 \x81") == "ā “x” “y” – \ufffd"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thu, 23 Jan 2025 10:00:00", "2025-01-23T03:00:00+00:00"),  # no zone: WIB
        ("2025-01-23T10:00:00", "2025-01-23T03:00:00+00:00"),
        ("2025-01-23 10:00:00", "2025-01-23T03:00:00+00:00"),
        ("Kamis, 23 Januari 2025 10:00", "2025-01-23T03:00:00+00:00"),
        ("Thu, 23 Jan 2025 10:00:00 WIB", "2025-01-23T03:00:00+00:00"),
        ("Thu, 23 Jan 2025 10:00:00 WITA", "2025-01-23T02:00:00+00:00"),
        ("Thu, 23 Jan 2025 10:00:00 WIT", "2025-01-23T01:00:00+00:00"),
        ("Kamis, 23 Januari 2025 10:00 +0800", "2025-01-23T02:00:00+00:00"),
        ("Thu, 23 Jan 2025 10:00:00 GMT", "2025-01-23T10:00:00+00:00"),
        ("Thu, 23 Jan 2025 10:00:00 +0000", "2025-01-23T10:00:00+00:00"),
        ("2025-01-23T10:00:00+07:00", "2025-01-23T03:00:00+00:00"),
        ("2025-01-23T10:00:00Z", "2025-01-23T10:00:00+00:00"),
        ("kemarin", None),
    ],
)
def test_dates_without_zone_are_wib(raw: str, expected: str | None) -> None:
    feed = f"<rss version='2.0'><channel><item><title>x</title><pubDate>{raw}</pubDate>"
    parsed = parse_feed(f"{feed}</item></channel></rss>".encode(), "https://x.example/")
    got = parsed.items[0].published_at
    assert (got.isoformat() if got else None) == expected


def test_json_feed_is_recognised_and_discovered() -> None:
    # PHP's json_encode escapes slashes; the version must still be found.
    escaped = b'{"items": [], "version": "https:\\/\\/jsonfeed.org\\/version\\/1.1"}'
    assert looks_like_feed(escaped) and parse_feed(escaped, "https://x.example/").items == ()
    assert not looks_like_feed(b'{"id": 1, "title": {"rendered": "a post"}}')
    with pytest.raises(ParseError, match="not a JSON Feed"):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", ', "https://x.example/")
    page = b"""<html><head>
    <link rel="alternate" type="application/feed+json" href="/feed.json">
    <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/2">
    </head></html>"""
    assert discover_feeds(page, "https://desa.example/") == ["https://desa.example/feed.json"]


def test_duplicate_guids_keep_the_first_and_a_shared_guid_is_dropped() -> None:
    parsed, notes = read_feed((FIXTURES / "duplicates.rss").read_bytes(), "https://s.example/")
    assert [i.guid is None for i in parsed.items] == [False, True, True]
    assert len({i.url for i in parsed.items}) == 3
    assert notes == (
        "1 item(s) repeated a guid; kept the first",
        "1 guid(s) shared by different links; ignored them",
    )


def test_feed_connector_reports_notes_and_reads_json_feed_on_loopback() -> None:
    feeds = {
        "/": response(200, b'<html><head><link rel="alternate" type="application/feed+json" '
                      b'href="/feed.json"></head></html>', {"content-type": "text/html"}),
        "/feed.json": response(200, (FIXTURES / "jsonfeed.json").read_bytes(),
                               {"content-type": "application/feed+json"}),
        "/dup.rss": response(200, (FIXTURES / "duplicates.rss").read_bytes()),
    }  # fmt: skip

    async def serve(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        w.write(feeds.get(path, response(404)))

    async def main() -> None:
        async with RawServer(serve) as srv, Fetcher(Settings(allow_private_addresses=True)) as f:
            harvest = await FeedConnector().collect(VillageForPoll("1", srv.url + "/", "feed"),
                                                    VillageHttp(f, {}))  # fmt: skip
            assert harvest.feed_url == srv.url + "/feed.json" and len(harvest.items) == 3
            village = VillageForPoll("1", srv.url + "/", "feed", feed_url=srv.url + "/dup.rss")
            harvest = await FeedConnector().collect(village, VillageHttp(f, {}))
            assert len(harvest.items) == 3 and len(harvest.notes) == 2

    asyncio.run(main())


def test_junk_before_the_declaration_is_cut_but_a_quoted_declaration_is_not() -> None:
    raw = (FIXTURES / "php_notice.rss").read_bytes()
    fixed, note = repair_encoding(raw)
    assert fixed.startswith(b"<?xml") and note == "179 bytes of text before the XML declaration"
    quoted = b"<rss version='2.0'><channel><title>T</title><description><![CDATA[<?xml?>]]>"
    assert repair_encoding(quoted + b"</description></channel></rss>")[1] is None


def test_fast_path_reads_exactly_like_feedparser() -> None:
    """fastfeedparser is only taken where its reading equals feedparser's (every fixture it
    accepts is compared field by field) and it is taken for ordinary OpenSID feeds."""
    from connectors import feed as feed_module
    from connectors import feed_fast

    cases = sorted(FIXTURES.glob("*.*")) + sorted((FIXTURES.parent / "opensid").glob("feed_*"))
    taken = []
    for path in cases:
        if path.suffix == ".json" or path.name.endswith(".expected.json"):
            continue
        raw = path.read_bytes()
        raw, _ = feed_module.repair_encoding(raw)
        fast = feed_module._parse_xml_fast(raw, "https://desa.example/feed")
        if fast is None:
            continue
        taken.append(path.name)
        slow = feed_module._parse_xml_slow(raw, "https://desa.example/feed")
        # The two read an entry into different shapes, so their fingerprints differ.
        assert _unmarked(fast) == _unmarked(slow), path.name
    assert {"opensid_2410.xml", "wordpress.xml", "feed_2601.xml"} <= set(taken)
    assert feed_fast.eligible((FIXTURES / "opensid_2101_quirks.xml").read_bytes()) is not None
    assert feed_fast.eligible(b'<!DOCTYPE x [<!ENTITY a "b">]><rss/>') is None


def test_text_without_markup_skips_the_sanitiser_and_reads_the_same() -> None:
    """`html_to_text` leaves nh3 out when the decoded text has no markup; for random text
    built from entities, controls and odd code points both ways give the same result."""
    import random
    import re

    import nh3

    from connectors.normalise import html_to_text, unescape_text

    def through_nh3(fragment: str) -> str:
        cleaned = nh3.clean(unescape_text(fragment), tags=set(), clean_content_tags={"script"})
        return re.sub(r"\s+", " ", unescape_text(cleaned)).strip()

    alphabet = [*"ab &;#<>\"'\r\n\t\x00\x01\x0b\x0c\x7f\x85\xa0\u2028\u200b\ufeff\ufffe😀é"]
    alphabet += ["&amp;", "&lt;", "&#60;", "&gt;", "&quot;", "&nbsp;", "&#0;", "&#x80;", "&#13;"]
    alphabet += ["&#xfeff;", "&amp;lt;b&amp;gt;", "<b>", "<script>x</script>"]
    rnd = random.Random(8)
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
        assert html_to_text(text) == through_nh3(text), repr(text)
    assert html_to_text("Rapat &amp; musyawarah desa") == "Rapat & musyawarah desa"
    assert html_to_text("&lt;script&gt;alert(1)&lt;/script&gt;Berita") == "Berita"


def test_plain_markup_skips_the_sanitiser_and_reads_the_same() -> None:
    """Bodies made of plain tags (p, a, span, br...) are stripped without nh3; for random
    markup of plain and other tags, attributes, comments, tables and raw-text elements,
    entities and stray brackets, both ways give the same text, and the real feeds' bodies
    take the fast path."""
    import random

    from connectors.normalise import _PLAIN_TAG, _via_nh3, html_to_text, unescape_text

    pieces = ["a", "b c", " ", "\n", "&amp;", "&lt;", "&gt;", "&nbsp;", "&am", "p;", "<", ">"]
    pieces += ["<p>", "</p>", "<P class='x'>", '<a href="https://x.example/?a=1&amp;b=2">']
    pieces += ["</a>", "<br>", "<br/>", "<br />", '<span title="a>b">', "</span>", "<div\n>"]
    pieces += ["<strong>", "</strong>", "<em>", "<h2>", "</h2>", "<ul>", "<li>", "</ul>"]
    pieces += ['<img src="x.jpg" alt="foto">', "<hr>", "<table>", "<tr>", "<td>", "</table>"]
    pieces += ["<title>", "</title>", "<textarea>", "</textarea>", "<!--", "-->", "<pre>"]
    pieces += ["<script>x</script>", "<style>p{}</style>", "<b", "</ b>", "<p/>", "<sup>", "é"]
    rnd = random.Random(9)
    fast = 0
    for _ in range(30_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        decoded = unescape_text(text)
        if "<" in decoded and "<" not in _PLAIN_TAG.sub("", decoded):
            fast += 1
        assert html_to_text(text) == _via_nh3(unescape_text(text)), repr(text)
    assert fast > 3_000  # the fast path was taken often
    real = [
        i.body for f in FIXTURES.parent.glob("opensid_real/*/feed.xml")
        for i in parse_feed(f.read_bytes(), "https://desa.example.id/feed").items
    ]  # fmt: skip
    assert real and all("<" not in _PLAIN_TAG.sub("", unescape_text(b)) for b in real)


def test_small_documents_are_parsed_on_the_loop_and_big_ones_in_a_thread() -> None:
    import threading

    from connectors.base import INLINE_BYTES, parse_off_loop

    async def main() -> None:
        here = threading.get_ident()
        small = await parse_off_loop(b"x" * 100, threading.get_ident)
        big = await parse_off_loop(b"x" * (INLINE_BYTES + 1), threading.get_ident)
        assert small == here and big != here

    asyncio.run(main())


@pytest.mark.parametrize(
    "link",
    [
        "https://desa.id/index.php/artikel/2024/1/2/slug",
        "http://desa.id",
        "/index.php/artikel/2024/1/2/relative",
        "artikel/relative",
        "HTTP://DESA.ID/upper",
        "http://desa.id/b?",
        "http://desa.id/b#",
        "http://desa.id/b?#f",
        "http://desa.id/b;",
        "http://desa.id/b;p?q",
        "http://[::1]/v6",
        " http://desa.id/leading-space",
        "http://desa.id/tab\there",
        "http://desa.id/newline\n",
        "http:///no-host",
        "http://desa.id/./dots/../x",
        "https://Desa.ID/index.php/artikel/2024/1/2/Upper-Host",
        "http://user@Desa.ID:8080/port",
        "https://désa.id/non-ascii-host",
        "//desa.id/scheme-relative",
    ],
)
def test_join_link_and_normalise_url_take_the_general_way_s_answer(link: str) -> None:
    """The fast paths for plain absolute links give what the general way gives (urljoin;
    urljoin, urlsplit and urlunsplit), for every shape of link."""
    base = "https://base.desa.id/index.php/feed"
    assert join_link(base, link) == urljoin(base, link)
    for against in (base, ""):
        parts = urlsplit(urljoin(against, link.strip()))
        general = (
            urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))
            if parts.scheme in ("http", "https") and parts.netloc
            else ""
        )
        assert normalise_url(link, against) == general


def test_squash_spaces_is_the_whitespace_regex_and_strip() -> None:
    """`squash_spaces` (str.split) gives what `re.sub(r"\\s+", " ", text).strip()` gives,
    for every whitespace character Python knows and for look-alikes that are not spaces."""
    import random
    import re
    import sys

    from connectors.normalise import squash_spaces

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(r"\s", chr(c))]
    assert len(spaces) > 20 and all(c.isspace() for c in spaces)
    assert not any(chr(c).isspace() for c in range(sys.maxunicode + 1) if chr(c) not in spaces)
    rnd = random.Random(2)
    alphabet = [*spaces, "a", "Z", "9", ".", "\u200b", "\ufeff", "\u2026"]
    for _ in range(2000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 20)))
        assert squash_spaces(text) == re.sub(r"\s+", " ", text).strip(), repr(text)
