"""Content faults applied to a site's own responses: a broken feed, an entity-expansion
bomb, an external-entity reference, and bytes that are not the UTF-8 their label claims.
The XML faults touch XML responses only (feeds, sitemaps); HTML pages stay readable.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .render import Page

CONTENT_FAULTS = ("malformed_xml", "xml_bomb", "xxe", "bad_encoding")
# Billion laughs: ten levels of ten references, 10**9 "lol"s (3 GB) if a parser expands them.
LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "lol"}">\n' for i in range(10))
BOMB_REFERENCE = "&lol9;"
XXE_TARGET = "file:///etc/passwd"
XXE_REFERENCE = "&xxe;"
# Bytes no decoder should take for UTF-8: an overlong "/", a lone continuation byte, 0xFF.
INVALID_UTF8 = b"\xc0\xaf\x80\xff"
_ROOT = re.compile(r"<([A-Za-z_][\w:.-]*)")
_TITLE = re.compile(r"(<title[^>]*>)(.*?)(</title>)", re.S)
_ITEM = re.compile(r"<(?:item|entry)\b")


def _first_item_title(text: str) -> re.Match[str] | None:
    """The <title> of the first item/entry (the channel's own title when there is none)."""
    item = _ITEM.search(text)
    return _TITLE.search(text, item.start() if item else 0)


def _retitle(text: str, title: str) -> str:
    match = _first_item_title(text)
    if match is None:
        return text
    return text[: match.start(2)] + title + text[match.end(2) :]


def _with_doctype(text: str, subset: str) -> str:
    """Insert `<!DOCTYPE root [subset]>` just before the root element."""
    root = _ROOT.search(text)
    if root is None:
        return text
    doctype = f"<!DOCTYPE {root.group(1)} [\n{subset}]>\n"
    return text[: root.start()] + doctype + text[root.start() :]


def malformed(text: str) -> str:
    """A raw `&`, mismatched tags in the first item, and the document cut off mid-way."""
    text = _retitle(text, "Gotong Royong & Kerja Bakti <b>Warga</i>")
    return text[: len(text) * 2 // 3]


def xml_bomb(text: str) -> str:
    return _retitle(_with_doctype(text, LAUGHS), BOMB_REFERENCE)


def xxe(text: str) -> str:
    subset = f'<!ENTITY xxe SYSTEM "{XXE_TARGET}">\n'
    return _retitle(_with_doctype(text, subset), f"Data Warga {XXE_REFERENCE}")


def mislabelled(body: bytes, *, xml: bool) -> bytes:
    """Windows-1252 bytes under a UTF-8 label ("–" becomes 0x96), plus bytes that are invalid
    in any reading of UTF-8 in the first item's title of a feed."""
    text = body.decode("utf-8")
    if xml:
        match = _first_item_title(text)
        if match is not None:
            text = text[: match.end(2)] + " – Café\x00" + text[match.end(2) :]
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\x00", INVALID_UTF8, 1)


def corrupt(behaviour: str, page: Page) -> Page:
    """The page as a site with this content fault serves it (unchanged for other behaviours)."""
    if behaviour not in CONTENT_FAULTS or page.status != 200 or not page.body:
        return page
    xml = "xml" in page.content_type
    if behaviour == "bad_encoding":
        if xml or page.content_type.startswith("text/"):
            return replace(page, body=mislabelled(page.body, xml=xml))
        return page
    if not xml:
        return page
    text = page.body.decode("utf-8")
    changed = {"malformed_xml": malformed, "xml_bomb": xml_bomb, "xxe": xxe}[behaviour](text)
    return replace(page, body=changed.encode("utf-8"))
