"""Which WordPress page answers a path, and the REST API (`/wp-json/...` or `?rest_route=`):
collections with `_fields`, `per_page`, `page`, date filters and X-WP-Total headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs, urlencode

from . import wordpress as wp
from .model import WIB
from .render import STYLESHEET, Page, SiteView, html_page, json_page, redirect

Params = dict[str, list[str]]
_POST = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/([^/]+)(/?)")
_HOME_PAGE = re.compile(r"/page/(\d+)/?")
_DATE_PARAMS = ("after", "before", "modified_after", "modified_before")
NOTICE = (
    "<br />\n<b>Notice</b>:  Undefined index: HTTP_REFERER in <b>/home/desa/public_html/"
    "wp-content/plugins/statistik-pengunjung/counter.php</b> on line <b>27</b><br />\n"
)


def _error(code: str, message: str, status: int, **data: object) -> tuple[int, object]:
    return status, {"code": code, "message": message, "data": {"status": status, **data}}


def _invalid(name: str, why: str) -> tuple[int, object]:
    return _error("rest_invalid_param", f"Invalid parameter(s): {name}", 400, params={name: why})


def pick(obj: dict[str, object], fields: list[str]) -> dict[str, object]:
    """The `_fields` filter: top-level names and dotted nested ones ("title.rendered")."""
    out: dict[str, object] = {}
    for field in fields:
        top, _, rest = field.partition(".")
        if top not in obj:
            continue
        value = obj[top]
        if rest and isinstance(value, dict):
            inner = out.setdefault(top, {})
            if isinstance(inner, dict):
                inner.update(pick(value, [rest]))
        else:
            out[top] = value
    return out


def _when(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=WIB)


def _int_param(params: Params, name: str, default: int, high: int) -> int | None:
    raw = params.get(name, [str(default)])[0]
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        return None
    return int(raw)


def _within(item: dict[str, object], bounds: dict[str, datetime]) -> bool:
    """`after`/`before` bound the publish date, `modified_*` the last edit (both exclusive)."""
    for name, moment in bounds.items():
        field = "modified_gmt" if name.startswith("modified") else "date_gmt"
        value = datetime.fromisoformat(f"{item[field]}+00:00")
        if (value <= moment) if name.endswith("after") else (value >= moment):
            return False
    return True


def _ids(value: object) -> set[int]:
    return {int(x) for x in value} if isinstance(value, list) else set()


def _posts(view: SiteView, params: Params) -> tuple[int, object] | list[dict[str, object]]:
    site = view.info
    items = [wp.post_json(site, a, view.now) for a in view.articles]
    bounds: dict[str, datetime] = {}
    for name in _DATE_PARAMS:
        if name in params:
            moment = _when(params[name][0])
            if moment is None:
                return _invalid(name, "Invalid date.")
            bounds[name] = moment
    items = [item for item in items if _within(item, bounds)]
    if "categories" in params:
        wanted = {int(c) for c in params["categories"][0].split(",") if c.strip().isdigit()}
        items = [i for i in items if wanted & _ids(i["categories"])]
    if search := params.get("search", [""])[0].lower():
        items = [i for i in items if search in str(i["title"]).lower()]
    return items


def _sort(items: list[dict[str, object]], params: Params) -> tuple[int, object] | None:
    orderby = params.get("orderby", ["date"])[0]
    order = params.get("order", ["desc"])[0]
    if orderby not in ("date", "modified", "id", "title", "slug"):
        return _invalid("orderby", "orderby is not one of date, modified, id, title, slug.")
    if order not in ("asc", "desc"):
        return _invalid("order", "order is not one of asc and desc.")
    field = {"date": "date_gmt", "modified": "modified_gmt"}.get(orderby, orderby)
    items.sort(key=lambda i: (str(i[field]) if field != "id" else "", int(str(i["id"]))))
    if order == "desc":
        items.reverse()
    return None


def _collection(
    view: SiteView,
    route: str,
    params: Params,
    source: Callable[[SiteView, Params], tuple[int, object] | list[dict[str, object]]],
) -> tuple[int, object, tuple[tuple[str, str], ...]]:
    per_page = _int_param(params, "per_page", 10, 100)
    if per_page is None:
        why = "per_page must be between 1 (inclusive) and 100 (inclusive)"
        return *_invalid("per_page", why), ()
    page = _int_param(params, "page", 1, 10**6)
    if page is None:
        return *_invalid("page", "page must be greater than or equal to 1"), ()
    items = source(view, params)
    if isinstance(items, tuple):
        return *items, ()
    if route != "/wp/v2/categories" and (problem := _sort(items, params)) is not None:
        return *problem, ()
    total = len(items)
    pages = -(-total // per_page)
    if page > pages and total > 0:
        message = "The page number requested is larger than the number of pages available."
        return *_error("rest_post_invalid_page_number", message, 400), ()
    chunk = items[(page - 1) * per_page : page * per_page]
    if "_fields" in params:
        fields = [f.strip() for f in params["_fields"][0].split(",") if f.strip()]
        chunk = [pick(item, fields) for item in chunk]
    headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
    base = f"{view.info.base}/wp-json{route}"
    links = []
    rest = {k: v[0] for k, v in params.items() if k not in ("page", "rest_route")}
    if page > 1:
        links.append(f'<{base}?{urlencode({**rest, "page": page - 1})}>; rel="prev"')
    if page < pages:
        links.append(f'<{base}?{urlencode({**rest, "page": page + 1})}>; rel="next"')
    if links:
        headers.append(("Link", ", ".join(links)))
    return 200, chunk, tuple(headers)


def _pages(view: SiteView, params: Params) -> list[dict[str, object]]:
    return [wp.page_json(view.info, p) for p in wp.static_pages(view)]


def _categories(view: SiteView, params: Params) -> list[dict[str, object]]:
    return wp.categories_json(view)


def rest(view: SiteView, route: str, params: Params) -> Page:
    """One REST request; every answer carries the variant's quirk (401, PHP notice)."""
    site = view.info
    headers: tuple[tuple[str, str], ...] = (
        ("X-Robots-Tag", "noindex"),
        ("Link", f'<{site.base}/wp-json/>; rel="https://api.w.org/"'),
        ("X-Content-Type-Options", "nosniff"),
        ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
    )
    route = route.rstrip("/") or "/"
    status: int
    data: object
    extra: tuple[tuple[str, str], ...] = ()
    if site.spec.variant == "rest_disabled":  # a "Disable REST API" plugin
        message = "DRA: Only authenticated users can access the REST API."
        status, data = _error("rest_cannot_access", message, 401)
    elif route == "/":
        index: dict[str, object] = {
            "name": f"{site.village.sebutan} {site.village.name}",
            "description": "Website Resmi",
            "url": site.base,
            "home": site.base,
            "gmt_offset": "7",
            "timezone_string": "Asia/Jakarta",
            "namespaces": ["oembed/1.0", "wp/v2", "wp-site-health/v1"],
            "authentication": [],
            "routes": {},
        }
        fields = params.get("_fields", [""])[0]
        data = pick(index, fields.split(",")) if fields else index
        status = 200
    elif route in ("/wp/v2/posts", "/wp/v2/pages", "/wp/v2/categories"):
        source = {"/wp/v2/posts": _posts, "/wp/v2/pages": _pages}.get(route, _categories)
        status, data, extra = _collection(view, route, params, source)
    elif match := re.fullmatch(r"/wp/v2/posts/(\d+)", route):
        found = [a for a in view.articles if a.id == int(match.group(1))]
        if found:
            post = wp.post_json(site, found[0], view.now)
            fields = params.get("_fields", [""])[0]
            status, data = 200, pick(post, fields.split(",")) if fields else post
        else:
            status, data = _error("rest_post_invalid_id", "Invalid post ID.", 404)
    else:
        message = "No route was found matching the URL and request method."
        status, data = _error("rest_no_route", message, 404)
    prefix = NOTICE if site.spec.variant == "php_notice" else ""
    return json_page(data, status, headers + extra, prefix)


def _feed(view: SiteView, params: Params) -> Page | None:
    paged = params.get("paged", ["1"])[0]
    page = int(paged) if paged.isdigit() and int(paged) > 0 else 1
    items = view.articles[(page - 1) * wp.FEED_ITEMS : page * wp.FEED_ITEMS]
    if page > 1 and not items:
        return None
    body = wp.feed_xml(view, items).encode()
    built = max((wp.modified_at(a, view.now) for a in items), default=None)
    return Page(200, body, "application/rss+xml; charset=UTF-8", last_modified=built)


def _html(view: SiteView, text: str | None, extra: tuple[tuple[str, str], ...] = ()) -> Page | None:
    if text is None:
        return None
    api = ("Link", f'<{view.info.base}/wp-json/>; rel="https://api.w.org/"')
    return Page(200, text.encode(), headers=(api, *extra), validators=False)


def route(view: SiteView, path: str, query: str) -> Page | None:
    """The page for a raw `path` (trailing slash significant), or None for a 404."""
    params = parse_qs(query, keep_blank_values=True)
    site = view.info
    if path.startswith("/wp-json"):
        return rest(view, path.removeprefix("/wp-json") or "/", params)
    if path in ("/", "/index.php"):
        if "rest_route" in params:  # the form used without pretty permalinks
            return rest(view, params["rest_route"][0], params)
        if params.get("feed", [""])[0] in ("rss2", "rss"):
            return _feed(view, params)
        if "p" in params:
            found = [a for a in view.articles if str(a.id) == params["p"][0]]
            return redirect(site.article_url(found[0])) if found else None
        return _html(view, wp.home_page(view, 1))
    if path == "/feed":
        return redirect(site.base + "/feed/")
    if path == "/feed/":
        return _feed(view, params)
    if match := _HOME_PAGE.fullmatch(path):
        return _html(view, wp.home_page(view, int(match.group(1))))
    if match := _POST.fullmatch(path):
        y, m, d, slug, slash = match.groups()
        for art in view.articles:
            if site.article_url(art) == f"{site.base}/{y}/{m}/{d}/{slug}/":
                if not slash:
                    return redirect(site.article_url(art))
                api = f"{site.base}/wp-json/wp/v2/posts/{art.id}"
                json_link = f'<{api}>; rel="alternate"; type="application/json"'
                return _html(view, wp.single_page(site, art), (("Link", json_link),))
        return None
    for page in wp.static_pages(view):
        if path == f"/{page.slug}/":
            return _html(view, wp.single_page(site, page))
    if path == "/robots.txt":
        robots = (
            "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
            f"Sitemap: {site.base}/wp-sitemap.xml\n"
        )
        return Page(200, robots.encode(), "text/plain; charset=UTF-8", validators=False)
    if path.startswith(("/wp-content/", "/wp-includes/")) and path.endswith(".css"):
        return Page(200, STYLESHEET.encode(), "text/css; charset=UTF-8")
    return None


def not_found(view: SiteView) -> Page:
    return html_page(wp.not_found_page(view.info), 404)
