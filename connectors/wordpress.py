"""WordPress connector: posts, categories and counts from the REST API (`/wp/v2`), and the
RSS feed when REST is switched off. Parsing is pure (`detect`, `extract_json`, `parse_posts`);
`WordPressConnector.collect` only orders the requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from aggregator.errors import FetchError, ParseError
from aggregator.types import (
    FetchResponse,
    Harvest,
    HttpGetter,
    ParsedItem,
    VillageForPoll,
    bounded_body,
)
from connectors.base import follow_pages, require_ok
from connectors.feed import (
    UNTITLED,
    Detection,
    discover_feeds,
    feed_state,
    summary_text,
)
from connectors.feed_site import first_feed, harvest_feed, read_feed_page
from connectors.normalise import (
    WIB,
    content_hash,
    html_to_text,
    normalise_url,
    truncate,
    unescape_text,
)

__all__ = ["Detection", "WordPressConnector", "detect", "extract_json", "parse_posts"]

log = logging.getLogger(__name__)

PER_PAGE = 50
BACKFILL_PAGES = 10  # first poll: up to 500 posts
INCREMENTAL_PAGES = 1  # later polls: the 50 most recently modified posts
# `content` is read only for the integrity check of post bodies (ParsedItem.body).
POST_FIELDS = "id,date_gmt,modified_gmt,link,title,excerpt,content,categories,featured_media,guid"
POSTS_ROUTE = "/wp/v2/posts"
API_REL = "https://api.w.org/"
MAX_JSON_STARTS = 16  # places tried for where the JSON begins after injected text
MAX_IDS = 100  # the REST API's largest per_page, so `include` lists stay in one request
PAGES_PARAMS = {"per_page": "1", "_fields": "id"}  # only X-WP-Total is wanted
_LINK_HEADER = re.compile(r"<([^>]*)>([^<]*)")
_API_REL = re.compile(r"""rel\s*=\s*"?https://api\.w\.org/"?""", re.IGNORECASE)
_GENERATOR = re.compile(r"^wordpress\s+(\d+(?:\.\d+)+)", re.IGNORECASE)
# An asset path, with the host it is on (none: this site).
_WP_ASSET = re.compile(r"""["'(\s=](?:https?:)?(?://([^/"'\s]+))?/wp-(?:content|includes)/""")
_THEME = re.compile(r"/wp-content/themes/([A-Za-z0-9._-]+)/")
# Core assets whose `?ver=` is the WordPress version (jQuery's or a plugin's is not).
_CORE_ASSET_VERSION = re.compile(
    r"/wp-includes/(?:css/dist/block-library/style|js/wp-emoji-release|css/dashicons|"
    r"js/wp-embed)(?:\.min)?\.(?:css|js)\?ver=(\d+\.\d+(?:\.\d+)?)\b"
)


def _page_text(content: bytes) -> str:
    # Inline JSON in WordPress pages escapes slashes ("wp-content\/themes\/…").
    return content[:2_000_000].decode("utf-8", errors="replace").replace("\\/", "/")


def api_root(resp: FetchResponse) -> str | None:
    """The REST root a WordPress page announces: `Link: <…/wp-json/>; rel="https://api.w.org/"`
    or the same as `<link rel>` in its head (docs/design.md)."""
    for m in _LINK_HEADER.finditer(resp.headers.get("link", "")):
        if _API_REL.search(m.group(2)) and (url := normalise_url(m.group(1), resp.url)):
            return url
    if b"api.w.org" not in resp.content:
        return None
    node = LexborHTMLParser(_page_text(resp.content)).css_first(f'link[rel="{API_REL}"][href]')
    return (normalise_url(node.attributes.get("href") or "", resp.url) or None) if node else None


def _own_assets(text: str, page_url: str) -> bool:
    """Whether the page loads /wp-content/ or /wp-includes/ files from its own site: an
    OpenSID article showing an image from someone's WordPress is not WordPress."""
    here = (urlsplit(page_url).hostname or "").removeprefix("www.")
    for m in _WP_ASSET.finditer(text):
        host = (m.group(1) or "").split(":")[0].lower().removeprefix("www.")
        if not host or host == here:
            return True
    return False


def detect(resp: FetchResponse) -> Detection | None:
    """Detection("wordpress", version, theme) if a home page shows WordPress, else None."""
    text = _page_text(resp.content)
    version = None
    if "generator" in text:
        for node in LexborHTMLParser(text).css("meta[name][content]"):
            if (node.attributes.get("name") or "").lower() != "generator":
                continue
            if m := _GENERATOR.match((node.attributes.get("content") or "").strip()):
                version = m.group(1)
                break
    if version is None and (m := _CORE_ASSET_VERSION.search(text)):
        version = m.group(1)
    if version is None and not _own_assets(text, resp.url) and api_root(resp) is None:
        return None
    theme = m.group(1) if (m := _THEME.search(text)) else None
    return Detection("wordpress", version, theme)


def route_url(root: str, route: str, params: Mapping[str, str] | None = None) -> str:
    """The url of a REST route under a root, in whichever form the root has: `/wp-json/…` or,
    without pretty permalinks, `?rest_route=/…`."""
    parts = urlsplit(root)
    query = parse_qsl(parts.query, keep_blank_values=True)
    extra = list((params or {}).items())
    if any(key == "rest_route" for key, _ in query):
        query = [(k, v) for k, v in query if k != "rest_route"] + [("rest_route", route)]
        return urlunsplit(parts._replace(query=urlencode(query + extra, safe="/,")))
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit(
        parts._replace(path=path + route.lstrip("/"), query=urlencode(extra, safe=","))
    )


def posts_url(
    root: str,
    page: int = 1,
    *,
    recent_changes: bool = False,
    modified_after: datetime | None = None,
) -> str:
    params = {"_fields": POST_FIELDS, "per_page": str(PER_PAGE)}
    if page > 1:
        params["page"] = str(page)
    if recent_changes:
        params |= {"orderby": "modified", "order": "desc"}
    if modified_after is not None:  # WP >= 5.7; older versions ignore it (docs/design.md)
        params["modified_after"] = modified_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return route_url(root, POSTS_ROUTE, params)


def rest_root_of(feed_url: str | None) -> str | None:
    """The REST root behind a remembered posts url (what `Harvest.feed_url` holds), else None."""
    if not feed_url:
        return None
    parts = urlsplit(feed_url)
    query = dict(parse_qsl(parts.query))
    if query.get("rest_route", "").rstrip("/") == POSTS_ROUTE:
        return urlunsplit(parts._replace(query="rest_route=/"))
    if parts.path.rstrip("/").endswith(POSTS_ROUTE):
        root = parts.path.rstrip("/")[: -len(POSTS_ROUTE)] + "/"
        return urlunsplit(parts._replace(path=root, query=""))
    return None


def is_rest_answer(value: Any) -> bool:
    """A list of REST objects (or none), or a REST error object."""
    if isinstance(value, list):
        return not value or isinstance(value[0], dict)
    return isinstance(value, dict) and "code" in value


def extract_json(body: bytes, accept: Callable[[Any], bool] = is_rest_answer) -> tuple[Any, str]:
    """The JSON value of a REST answer and the text printed before it (PHP notices, injected
    markup). Of the values found that `accept` takes, one that ends the body wins, else the
    longest: a script's `[1, 2]` or a notice's `[0]` is not the answer."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    decoder = json.JSONDecoder()
    best: tuple[int, Any, int] | None = None
    pos, tries = 0, 0
    while tries < MAX_JSON_STARTS:
        starts = [i for i in (text.find("[", pos), text.find("{", pos)) if i >= 0]
        if not starts:
            break
        start, tries = min(starts), tries + 1
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            pos = start + 1
            continue
        pos = end  # what is nested inside a value that parsed is not a better start
        if not accept(value):
            continue
        if not text[end:].strip():
            return value, text[:start]
        if best is None or end - start > best[0]:
            best = (end - start, value, start)
    if best is None:
        raise ParseError("no JSON in the REST response")
    return best[1], text[: best[2]]


@dataclass(frozen=True)
class WpPost:
    """One post of the REST API: the item, and the ids still to be turned into names."""

    id: int
    item: ParsedItem
    modified_at: datetime | None
    category_ids: tuple[int, ...]
    featured_media: int | None


def _rendered(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rest_date(gmt: object, local: object = None) -> datetime | None:
    """`date_gmt` is UTC without an offset; `date` is site time, taken as WIB."""
    for raw, tz in ((gmt, UTC), (local, WIB)):
        if isinstance(raw, str) and raw and not raw.startswith("0000"):
            try:
                found = datetime.fromisoformat(raw)
            except ValueError:
                continue
            return (found if found.tzinfo else found.replace(tzinfo=tz)).astimezone(UTC)
    return None


def parse_posts(payload: Any, base_url: str) -> tuple[WpPost, ...]:
    """Posts from a `/wp/v2/posts` JSON list; entries that aren't posts are skipped."""
    if not isinstance(payload, list):
        raise ParseError("REST posts: expected a JSON list")
    posts = []
    for obj in payload:
        if not isinstance(obj, dict) or (post_id := _int(obj.get("id"))) is None:
            continue
        title = html_to_text(_rendered(obj.get("title")))
        excerpt = _rendered(obj.get("excerpt"))
        summary = summary_text(excerpt)
        guid = unescape_text(_rendered(obj.get("guid"))).strip() or None
        item = ParsedItem(
            title=title or UNTITLED,
            url=normalise_url(_rendered(obj.get("link")), base_url),
            guid=guid,
            published_at=rest_date(obj.get("date_gmt"), obj.get("date")),
            summary=summary,
            content_hash=content_hash(title, html_to_text(excerpt) or summary),
            source="rest",  # the REST API lists published posts only
            body=bounded_body(_rendered(obj.get("content"))),
        )
        raw_categories = obj.get("categories")
        categories = raw_categories if isinstance(raw_categories, list) else []
        posts.append(
            WpPost(
                id=post_id,
                item=item,
                modified_at=rest_date(obj.get("modified_gmt"), obj.get("modified")),
                category_ids=tuple(i for c in categories if (i := _int(c)) is not None),
                featured_media=_int(obj.get("featured_media")) or None,
            )
        )
    return tuple(posts)


def parse_names(payload: Any, field: str) -> dict[int, str]:
    """`{id: field}` from a REST list such as `/wp/v2/categories?_fields=id,name`."""
    names: dict[int, str] = {}
    for obj in payload if isinstance(payload, list) else []:
        if isinstance(obj, dict) and (key := _int(obj.get("id"))) is not None:
            value = _rendered(obj.get(field))
            text = normalise_url(value) if field == "source_url" else html_to_text(value)
            if text:
                names[key] = text
    return names


def finish_items(
    posts: Sequence[WpPost], categories: Mapping[int, str], media: Mapping[int, str]
) -> tuple[ParsedItem, ...]:
    """Items with category names and thumbnail urls filled in; repeated post ids dropped."""
    seen: set[int] = set()
    items = []
    for post in posts:
        if post.id in seen:  # paging while posts are published shifts them across pages
            continue
        seen.add(post.id)
        category = next((categories[c] for c in post.category_ids if c in categories), None)
        thumbnail = media.get(post.featured_media) if post.featured_media else None
        items.append(replace(post.item, category=category, thumbnail=thumbnail))
    return tuple(items)


def _total(resp: FetchResponse, header: str) -> int | None:
    value = resp.headers.get(header, "").strip()
    return int(value) if value.isdigit() else None


@dataclass(frozen=True)
class _Refusal:
    """Why a REST root gave no posts; `query_form` if `?rest_route=` is worth a try."""

    reason: str
    query_form: bool


def _prefix_note(prefix: str, what: str) -> str | None:
    if not prefix.strip():
        return None
    shown = truncate(html_to_text(prefix), 80) or "markup"
    return f"json_prefix_garbage: {len(prefix)} characters before the JSON of {what}: {shown}"


def _read_posts_page(resp: FetchResponse, base_url: str) -> tuple[tuple[WpPost, ...], str] | str:
    """Posts and the text before their JSON, or why the answer holds no posts."""
    try:
        payload, prefix = extract_json(resp.content)
    except ParseError:
        return f"HTTP {resp.status_code}, not JSON"
    if isinstance(payload, dict) and "code" in payload:
        return f"HTTP {resp.status_code} {str(payload['code'])[:60]}"
    if not isinstance(payload, list):
        return f"HTTP {resp.status_code}, not a list of posts"
    return parse_posts(payload, base_url), prefix


class WordPressConnector:
    """Reads a WordPress village site. The first poll (no REST posts url remembered in
    `village.feed_url`) backfills up to BACKFILL_PAGES pages; later polls read only the most
    recently modified posts, because no last-seen time survives from one poll to the next."""

    name = "wordpress"

    async def collect(self, village: VillageForPoll, http: HttpGetter) -> Harvest:
        known = rest_root_of(village.feed_url)
        refusal: _Refusal | None = None
        if known:
            found = await self._read_rest(known, http, backfill=False)
            if isinstance(found, Harvest):
                return found
            refusal = found
        # No root remembered, or it stopped answering: look at the home page again.
        home = require_ok(await http.get(village.url, conditional=False))
        detection = detect(home)
        version = detection.version if detection else None
        announced = api_root(home) or urljoin(home.url, "wp-json/")
        query_form = urljoin(home.url, "?rest_route=/")
        tried = {known}
        for root in (announced, query_form):
            if root in tried or (root == query_form and refusal and not refusal.query_form):
                continue
            tried.add(root)
            found = await self._read_rest(root, http, backfill=known is None)
            if isinstance(found, Harvest):
                return replace(found, version=version)
            refusal = found
        reason = refusal.reason if refusal else "not found"
        log.debug("village=%s url=%s: REST API unavailable (%s)", village.code, home.url, reason)
        note = f"REST API unavailable ({reason}); read the RSS feed"
        candidates = [u for u in discover_feeds(home.content, home.url) if "/comments/" not in u]
        for path in ("feed/", "?feed=rss2"):  # the second without pretty permalinks
            if (url := urljoin(home.url, path)) not in candidates:
                candidates.append(url)
        errors: list[str] = []
        feed = await first_feed(http, candidates, errors)
        # Say "wordpress" only if the home page showed it: the config may name the wrong one.
        if feed is None:
            platform, notes = ("wordpress" if detection else "html"), (note, "no feed either")
            return Harvest(platform=platform, version=version, notes=(*notes, *errors))
        platform = "wordpress" if detection else "feed"
        harvest = await harvest_feed(
            feed[1],
            feed[0],
            platform=platform,
            version=version,
            notes=(note,),
            state=feed_state(village, feed[0]),
        )
        if village.feed_url is None and harvest.items:  # first poll: older posts from feed pages
            harvest = await self._backfill_feed(http, feed[0], harvest)
        return harvest

    @staticmethod
    async def _backfill_feed(http: HttpGetter, feed_url: str, harvest: Harvest) -> Harvest:
        """WordPress pages its feeds with ?paged=N (10 posts each by default); without REST
        that is the only way to see a site's older posts."""
        last = BACKFILL_PAGES * PER_PAGE // 10  # the feed lists 10 posts a page

        def next_url(_page: FetchResponse | None, read: int) -> str | None:
            return f"{feed_url}{'&' if '?' in feed_url else '?'}paged={read + 2}"

        # Past the last page WordPress answers 404: read_feed_page says None.
        items = await follow_pages(http, harvest.items, next_url, read_feed_page, pages=last - 1)
        return replace(harvest, items=tuple(items))

    async def _read_rest(
        self, root: str, http: HttpGetter, *, backfill: bool
    ) -> Harvest | _Refusal:
        try:
            resp = await http.get(posts_url(root, recent_changes=not backfill))
        except FetchError as e:
            return _Refusal(f"{e.phase}: {e.message}", query_form=False)
        feed_url = route_url(root, POSTS_ROUTE)
        if resp.not_modified:
            return Harvest(platform="wordpress", feed_url=feed_url, not_modified=True)
        page = await asyncio.to_thread(_read_posts_page, resp, root)
        if isinstance(page, str):
            # 401/403: a plugin switched REST off, and blocks ?rest_route= the same way.
            return _Refusal(page, query_form=resp.status_code not in (401, 403))
        if not 200 <= resp.status_code < 300:
            return _Refusal(f"HTTP {resp.status_code}", query_form=resp.status_code == 404)
        posts, prefix = page
        notes = [n] if (n := _prefix_note(prefix, "posts")) else []
        metrics: dict[str, float] = {}
        if (total := _total(resp, "x-wp-total")) is not None:
            metrics["articles_total"] = float(total)
        max_pages = BACKFILL_PAGES if backfill else INCREMENTAL_PAGES
        total_pages = _total(resp, "x-wp-totalpages") or 1
        if backfill and total_pages > max_pages:
            notes.append(f"backfill stopped at {max_pages * PER_PAGE} of {total} posts")
        for number in range(2, min(total_pages, max_pages) + 1):
            more = await self._secondary(http, posts_url(root, number), f"posts page {number}")
            if isinstance(more, str) or not isinstance(more[0], list):
                notes += [more] if isinstance(more, str) and more else []
                break
            posts += await asyncio.to_thread(parse_posts, more[0], root)
        categories, media = await self._names(http, root, posts, notes)
        pages = await self._secondary(http, route_url(root, "/wp/v2/pages", PAGES_PARAMS), "pages")
        if isinstance(pages, str):
            notes.append(pages)
        elif (count := _total(pages[1], "x-wp-total")) is not None:
            metrics["pages_total"] = float(count)
        return Harvest(
            platform="wordpress",
            feed_url=feed_url,
            items=finish_items(posts, categories, media),
            metrics=metrics,
            notes=tuple(notes),
        )

    async def _names(
        self, http: HttpGetter, root: str, posts: Sequence[WpPost], notes: list[str]
    ) -> tuple[dict[int, str], dict[int, str]]:
        """Category names and featured-image urls of the posts, one request each."""
        names: list[dict[int, str]] = []
        for route, ids, field in (
            ("/wp/v2/categories", [c for p in posts for c in p.category_ids], "name"),
            ("/wp/v2/media", [p.featured_media for p in posts if p.featured_media], "source_url"),
        ):
            wanted = list(dict.fromkeys(ids))[:MAX_IDS]
            if not wanted:
                names.append({})
                continue
            params = {
                "include": ",".join(map(str, wanted)),
                "per_page": str(MAX_IDS),
                "_fields": f"id,{field}",
            }
            got = await self._secondary(http, route_url(root, route, params), route[7:])
            if isinstance(got, str):
                notes.append(got)
                names.append({})
            else:
                names.append(parse_names(got[0], field))
        return names[0], names[1]

    @staticmethod
    async def _secondary(http: HttpGetter, url: str, what: str) -> tuple[Any, FetchResponse] | str:
        """JSON of a secondary endpoint, or a note on why not ("" past the last page): its
        failure must not cost the harvest. Unconditional: a 304 would hide the names."""
        try:
            resp = await http.get(url, conditional=False)
        except FetchError as e:
            return f"{what}: {e.phase}: {e.message}"
        if resp.status_code == 400 and what.startswith("posts page"):
            return ""  # rest_post_invalid_page_number: posts were deleted while paging
        if not 200 <= resp.status_code < 300:
            return f"{what}: HTTP {resp.status_code}"
        try:
            payload, _ = extract_json(resp.content)
        except ParseError:
            return f"{what}: not JSON"
        return payload, resp
