"""Feeds for outsiders: an Atom feed of each kecamatan's combined news (the public "Sipande"
portal) and an OPML list of every village feed we know, for any feed reader."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.clock import parse_when
from aggregator.web.common import now_utc, safe_url, store_of

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50
# Characters XML 1.0 forbids; a village feed can carry them and one would break ours.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    return _NOT_XML.sub("", str(value or ""))


def _sub(parent: ET.Element, tag: str, content: str | None = None, /, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if content is not None:
        el.text = xml_text(content)
    return el


def entry_id(item: dict[str, Any]) -> str:
    """The article url when it is one (stable across our dedup), else a tag: URI."""
    url = safe_url(item["url"])
    if url:
        return url
    digest = hashlib.sha256(f"{item['village_code']}|{item['title']}".encode()).hexdigest()
    return f"tag:sipande,2025:berita/{item['village_code']}/{digest[:32]}"


def atom_feed(
    *,
    title: str,
    feed_id: str,
    self_url: str,
    html_url: str,
    items: list[dict[str, Any]],
    now: datetime,
) -> bytes:
    """An Atom 1.0 document (RFC 4287) of news items, newest first."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": "id"})
    a = f"{{{ATOM_NS}}}"
    _sub(feed, a + "title", title)
    _sub(feed, a + "id", feed_id)
    _sub(feed, a + "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, a + "link", rel="alternate", type="text/html", href=html_url)
    stamps = [parse_when(i["published_at"]) or parse_when(i["first_seen"]) for i in items]
    newest = max([s for s in stamps if s], default=now)
    _sub(feed, a + "updated", newest.isoformat())
    _sub(feed, a + "generator", "Sipande")
    for item, stamp in zip(items, stamps, strict=True):
        entry = _sub(feed, a + "entry")
        _sub(entry, a + "title", item["title"] or "(tanpa judul)", type="text")
        _sub(entry, a + "id", entry_id(item))
        if safe_url(item["url"]):
            _sub(entry, a + "link", rel="alternate", href=safe_url(item["url"]))
        when = (stamp or now).isoformat()
        _sub(entry, a + "updated", when)
        if item["published_at"]:
            _sub(entry, a + "published", when)
        author = _sub(entry, a + "author")
        _sub(author, a + "name", item["village_name"])
        if item["category"]:
            _sub(entry, a + "category", term=item["category"])
        if item["summary"]:
            _sub(entry, a + "summary", item["summary"], type="text")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def opml_document(
    kecamatan: list[dict[str, Any]], villages: list[dict[str, Any]], now: datetime, title: str
) -> bytes:
    """OPML 2.0: one outline per kecamatan holding its villages' feeds (known ones only)."""
    root = ET.Element("opml", {"version": "2.0"})
    head = _sub(root, "head")
    _sub(head, "title", title)
    _sub(head, "dateCreated", format_datetime(now))
    body = _sub(root, "body")
    for kec in kecamatan:
        feeds = [
            v for v in villages if v["kecamatan_code"] == kec["code"] and safe_url(v["feed_url"])
        ]
        if not feeds:
            continue
        group = _sub(
            body, "outline", text=f"Kecamatan {kec['name']}", title=f"Kecamatan {kec['name']}"
        )
        for v in feeds:
            attrs = {
                "type": "rss",
                "text": v["name"],
                "title": v["name"],
                "xmlUrl": safe_url(v["feed_url"]),
            }
            if safe_url(v["url"]):
                attrs["htmlUrl"] = safe_url(v["url"])
            _sub(group, "outline", **attrs)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def kecamatan_feed(request: Request) -> Response:
    store = store_of(request)
    kec = store.kecamatan(request.path_params["code"])
    if kec is None:
        raise HTTPException(404, "Kecamatan tidak ditemukan")
    items = store.news(kecamatan=kec["code"], limit=FEED_ENTRIES)
    self_url = str(request.url.replace(query=""))
    body = atom_feed(
        title=f"Berita desa Kecamatan {kec['name']} · {request.app.state.title}",
        feed_id=self_url,
        self_url=self_url,
        html_url=str(request.url_for("kecamatan_page", code=kec["code"])),
        items=items,
        now=now_utc(),
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def opml(request: Request) -> Response:
    store = store_of(request)
    body = opml_document(
        store.kecamatan_overview(),
        store.list_villages(),
        now_utc(),
        f"Feed situs desa · {request.app.state.title}",
    )
    return Response(
        body,
        media_type="text/x-opml; charset=utf-8",
        headers={"content-disposition": 'inline; filename="sipande-desa.opml"'},
    )


def routes() -> list[Route]:
    return [
        Route("/kecamatan/{code}/feed.atom", kecamatan_feed),
        Route("/opml", opml),
    ]
