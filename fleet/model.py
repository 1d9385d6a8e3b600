"""Plain data of the simulated fleet: villages, behaviours, articles and request records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .kinds import DEFAULT_KIND

BASE_BEHAVIOURS = (
    "active",
    "quiet",
    "abandoned",
    "never_posted",
    "down_500",
    "hang",
    "slow",
    "unresolvable",
    "no_site",
)
# Judi-online compromises (docs/design.md; served by judol.py), each on top of an active site.
JUDOL = (
    "judol_hidden_links",
    "judol_injected_posts",
    "judol_head",
    "judol_cloak_ua",
    "judol_cloak_referer",
    "judol_redirect",
    "judol_doorway_sitemap",
)
# A judi-online injection only in the body of an older post (not on the home page, not among
# the newest items): found by the post-body check of what the connector reads, not the watch.
JUDOL_BODY = ("judol_post_body",)
# Clean sites whose news looks like judol to a keyword grep: they must never be flagged.
LOOKALIKES = ("clean_antijudol", "clean_ambiguous")
# Hostile or broken servers (faults.py); hang, down_500 and unresolvable are above.
TLS_FAULTS = ("tls_expired", "tls_wrong_name")
FAULTS = (
    "hang",
    "drip",
    "reset",
    "down_500",
    "ratelimit_429",
    "huge_body",
    "gzip_bomb",
    "redirect_loop",
    "redirect_private",
    "malformed_xml",
    "xml_bomb",
    "xxe",
    "bad_encoding",
    "hostile_markup",
    "unresolvable",
    *TLS_FAULTS,
)
BEHAVIOURS = (
    *BASE_BEHAVIOURS,
    *JUDOL,
    *JUDOL_BODY,
    *LOOKALIKES,
    *(f for f in FAULTS if f not in BASE_BEHAVIOURS),
)

# Behaviours whose site has no reachable server (no url, or a url that cannot resolve).
UNREACHABLE = ("unresolvable", "no_site")

# Western Indonesia Time: Purbalingga's zone, UTC+7 all year (no daylight saving).
WIB = timezone(timedelta(hours=7), "WIB")


@dataclass(frozen=True)
class SimVillage:
    """One village of the simulated fleet and the way its web site behaves."""

    code: str
    name: str
    type: str
    kecamatan_code: str
    kecamatan_name: str
    behaviour: str
    kind: str = DEFAULT_KIND  # one of KINDS: what software the site runs (see kinds.py)

    @property
    def sebutan(self) -> str:
        """How the village calls itself: "Desa" or "Kelurahan"."""
        return "Kelurahan" if self.type == "kelurahan" else "Desa"


@dataclass(frozen=True)
class Article:
    """One article (artikel) published on a simulated village site."""

    id: int
    title: str
    slug: str
    published_at: datetime
    category: str
    body_html: str
    image: str

    @property
    def path(self) -> str:
        """OpenSID article path, month and day not zero-padded: /index.php/artikel/2024/9/5/x
        (answers on every OpenSID site; `Fleet.article_url` gives each kind's own link)."""
        local = self.published_at.astimezone(WIB)
        return f"/index.php/artikel/{local.year}/{local.month}/{local.day}/{self.slug}"


@dataclass(frozen=True)
class RequestRecord:
    """One request a simulated site received; status 0 means nothing was answered (hang)."""

    method: str
    path: str
    headers: dict[str, str]
    status: int
    query: str = ""
