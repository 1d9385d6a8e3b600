"""The page model, from raw HTML: head fields (P12), canonical/amphtml (P5), meta refresh
(P11), Search Console tokens (P14), scripts (P10), P13 fragments, and the body walk (body.py).
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser

from aggregator.integrity.body import Heading, HiddenBlock, Link, node_text, walk_body
from connectors.normalise import normalise_url

_START = re.compile(r"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_END = "</html>"
_COMMENT = re.compile(r"<!--.*?(?:-->|$)|<\?xml[^>]*\?>", re.DOTALL)
_JSONLD = re.compile(r'"(name|headline|description)"\s*:\s*"((?:[^"\\]|\\.){1,400})"')
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s>]+)", re.IGNORECASE)
_VERIFICATION = re.compile(r"google-site-verification\"?\s+content=\"([^\"]+)\"", re.IGNORECASE)
_HEAD_META = ("description", "keywords", "og:title", "og:description", "og:site_name")


@dataclass(frozen=True)
class Page:
    url: str
    title: str
    head: tuple[tuple[str, str], ...]  # ("meta description", text), ("og:title", text), ...
    canonical: str
    amphtml: str
    refresh: str  # absolute target of <meta http-equiv=refresh>, or ""
    verification: tuple[tuple[str, str], ...]  # (google-site-verification token, place)
    text: str  # visible body text: not hidden, not UGC, no scripts
    ugc_text: str
    links: tuple[Link, ...]  # visible links; hidden ones are in `hidden`
    hidden: tuple[HiddenBlock, ...]
    headings: tuple[Heading, ...]
    script_srcs: tuple[str, ...]
    scripts: tuple[str, ...]  # inline script bodies, JSON-LD excluded
    before_html: str  # P13: markup before <!DOCTYPE>/<html>, comments dropped
    after_html: str  # P13: markup after </html>


def decode(raw: bytes | str) -> str:
    return raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")


def split_document(text: str) -> tuple[str, str, str]:
    """(before, document, after): P13 payloads sit outside <html>…</html>."""
    start = _START.search(text)
    i = start.start() if start else 0
    j = text.lower().rfind(_END)
    j = j + len(_END) if j >= i else len(text)
    outside = (_COMMENT.sub("", part).strip(" \t\r\n\ufeff") for part in (text[:i], text[j:]))
    before, after = outside
    return before, text[i:j], after


@lru_cache(maxsize=16)
def parse_page(raw: bytes | str, url: str) -> Page:
    """The parsed page (frozen, so shared): a scan reads the same home page as the browser
    view, in the comparison of views and usually again as the crawler's and the search
    visitor's identical bytes; it is parsed once."""
    before, document, after = split_document(decode(raw))
    tree = LexborHTMLParser(document)
    head = _head(tree, url)
    body = walk_body(tree, url)
    srcs, scripts = _scripts(tree, url)
    tokens = [(m.group(1), "before <html>") for m in _VERIFICATION.finditer(before)]
    return Page(
        url=url,
        title=head.get("title", ""),
        head=tuple((k, v) for k, v in head.items() if k not in ("title", "canonical", "amphtml")),
        canonical=head.get("canonical", ""),
        amphtml=head.get("amphtml", ""),
        refresh=_refresh(tree, url),
        verification=(*_verification(tree), *tokens),
        text=" ".join(body.text),
        ugc_text=" ".join(body.ugc_text),
        links=body.links,
        hidden=body.hidden,
        headings=body.headings,
        script_srcs=srcs,
        scripts=scripts,
        before_html=before,
        after_html=after,
    )


def _head(tree: LexborHTMLParser, url: str) -> dict[str, str]:
    """Title, SEO metas, OG/Twitter, JSON-LD name/description (P12), canonical/amphtml (P5)."""
    fields: dict[str, str] = {}
    title = tree.css_first("title")
    fields["title"] = node_text(title) if title is not None else ""
    for meta in tree.css("meta[content]"):
        name = (meta.attributes.get("name") or meta.attributes.get("property") or "").lower()
        if name in _HEAD_META or name.startswith("twitter:"):
            label = name if ":" in name else f"meta {name}"
            fields.setdefault(label, meta.attributes.get("content") or "")
    for n, script in enumerate(tree.css('script[type="application/ld+json"]')):
        for key, value in _JSONLD.findall(script.text() or ""):
            with contextlib.suppress(ValueError):
                value = json.loads(f'"{value}"')
            fields.setdefault(f"json-ld {key}" + (f" #{n + 1}" if n else ""), value)
    for rel in ("canonical", "amphtml"):
        link = tree.css_first(f'link[rel="{rel}"][href]')
        if link is not None:
            fields[rel] = normalise_url(link.attributes.get("href") or "", url)
    return fields


def _refresh(tree: LexborHTMLParser, url: str) -> str:
    for meta in tree.css("meta[http-equiv][content]"):
        if (meta.attributes.get("http-equiv") or "").lower() == "refresh":
            m = _REFRESH_URL.search(meta.attributes.get("content") or "")
            if m:
                return normalise_url(m.group(1), url)
    return ""


def _verification(tree: LexborHTMLParser) -> list[tuple[str, str]]:
    found = []
    for meta in tree.css('meta[name="google-site-verification"][content]'):
        place, node = "body", meta.parent
        while node is not None:
            if node.tag == "head":
                place = "head"
                break
            node = node.parent
        found.append(((meta.attributes.get("content") or "").strip(), place))
    return found


def _scripts(tree: LexborHTMLParser, url: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    srcs, bodies = [], []
    for script in tree.css("script"):
        src = script.attributes.get("src")
        if src:
            srcs.append(normalise_url(src, url) or src)
        elif "json" not in (script.attributes.get("type") or "").lower():
            bodies.append(script.text() or "")
    return tuple(srcs), tuple(b for b in bodies if b.strip())
