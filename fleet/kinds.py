"""The kinds of village site the fleet emulates (OpenSID eras and themes, WordPress variants, an
Atom-feed CMS, a plain HTML site) and how a district fleet mixes them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_NGINX = (("Server", "nginx"), ("X-Powered-By", "PHP/8.1.2"))


@dataclass(frozen=True)
class KindSpec:
    """What one kind of site is: platform, release, theme and the quirks that go with them."""

    name: str
    platform: str  # what a connector should detect: opensid | wordpress | feed | html
    version: str = ""  # OpenSID "2410" (YYMM), WordPress "6.6.2", "" for the others
    theme: str = ""  # OpenSID esensi | natra; the WordPress theme slug
    era: str = ""  # OpenSID only: "2101" (legacy PHP), "php" (2305-2410), "blade" (2508+)
    pretty_urls: bool = False  # OpenSID: the site has a .htaccess, links lack "index.php/"
    variant: str = ""  # WordPress: "" | "rest_disabled" | "php_notice"
    server: tuple[tuple[str, str], ...] = _NGINX

    @property
    def label(self) -> str | None:
        """Normalised version: "24.10" (OpenSID current_version), "6.6.2", or None."""
        if self.platform == "opensid":
            return f"{self.version[:2]}.{self.version[2:]}"
        return self.version or None

    @property
    def full_version(self) -> str:
        """OpenSID `AmbilVersi()`: "21.01" up to 23.04 (VERSION was YY.MM), else "2410.0.0"."""
        if self.platform != "opensid":
            return self.version
        if int(self.version) < 2305:
            return f"{self.version[:2]}.{self.version[2:]}"
        return f"{self.version}.0.0"


def _opensid(version: str, theme: str, era: str, pretty: bool) -> KindSpec:
    server = (("Server", "nginx"), ("X-Powered-By", "PHP/7.4.33" if era == "2101" else "PHP/8.1.2"))
    return KindSpec(
        f"opensid-{version}-{theme}", "opensid", version, theme, era, pretty, "", server
    )


def _wordpress(name: str, version: str, theme: str, variant: str, php: str) -> KindSpec:
    server = (("Server", "Apache"), ("X-Powered-By", f"PHP/{php}"))
    return KindSpec(name, "wordpress", version, theme, "", True, variant, server)


_SPECS = (
    # Legacy: feed with a BOM, lowercase <pubdate>, no <guid>/<category>, "OpenDESA" rights.
    _opensid("2101", "natra", "2101", pretty=False),
    # PHP era: server-rendered pages, /vendor/themes assets, no /internal_api.
    _opensid("2305", "esensi", "php", pretty=True),
    _opensid("2410", "esensi", "php", pretty=False),
    _opensid("2410", "natra", "php", pretty=True),
    # Blade era: double-escaped feed titles, padded categories, /internal_api JSON:API.
    _opensid("2508", "esensi", "blade", pretty=False),
    _opensid("2601", "natra", "blade", pretty=True),
    _wordpress("wordpress", "6.6.2", "newsup", "", "8.2.20"),
    # A security plugin answers every REST route with 401: clients must fall back to /feed/.
    _wordpress("wordpress-rest-disabled", "6.4.5", "colormag", "rest_disabled", "8.1.29"),
    # An old plugin prints a PHP notice before every REST JSON body.
    _wordpress("wordpress-php-notice", "6.5.5", "astra", "php_notice", "7.4.33"),
    KindSpec("atom", "feed", server=(("Server", "GSE"),)),
    KindSpec("html-only", "html", server=(("Server", "Apache/2.4.41 (Ubuntu)"),)),
)
SPECS: dict[str, KindSpec] = {spec.name: spec for spec in _SPECS}
KINDS: tuple[str, ...] = tuple(SPECS)
DEFAULT_KIND = "opensid-2410-esensi"
OPENSID_KINDS = tuple(k for k, s in SPECS.items() if s.platform == "opensid")

# Share of the villages with a site, in percent (OpenSID gets the rest, ~78%, i.e. ~70% of a
# district once the villages without a working site are counted).
OTHER_SHARE = (("wordpress", 12.0), ("atom", 5.5), ("html-only", 5.5))
WORDPRESS_ORDER = ("wordpress", "wordpress-rest-disabled", "wordpress-php-notice", "wordpress")
# Relative weights of the OpenSID kinds (PHP 24.10 esensi is the most common install).
OPENSID_WEIGHTS = {
    "opensid-2101-natra": 1,
    "opensid-2305-esensi": 2,
    "opensid-2410-esensi": 4,
    "opensid-2410-natra": 2,
    "opensid-2508-esensi": 2,
    "opensid-2601-natra": 2,
}
# Fewer sited villages than this (a district of fewer than 24) cannot hold one of each kind:
# they get OpenSID's legacy and PHP-era kinds only. Blade is left out on purpose: the current
# feed connector turns its double-escaped titles back into markup (`&amp;lt;script&amp;gt;`
# -> "<script>") without stripping it, which the 12-village poller and web tests would trip on.
FULL_MIX_MIN = 22
SMALL_FLEET_KINDS = tuple(OPENSID_WEIGHTS)


def spec_of(kind: str) -> KindSpec:
    """The spec of a kind name; ValueError for an unknown one."""
    try:
        return SPECS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}") from None


def _largest_remainder(total: int, weights: dict[str, float], floor: int) -> dict[str, int]:
    """Split `total` over `weights`, each getting at least `floor` (when total allows)."""
    counts = dict.fromkeys(weights, floor)
    rest = total - floor * len(weights)
    weight = sum(weights.values())
    shares = {k: rest * w / weight for k, w in weights.items()}
    for key, share in shares.items():
        counts[key] += int(share)
    left = total - sum(counts.values())
    for key in sorted(shares, key=lambda k: -(shares[k] - int(shares[k])))[:left]:
        counts[key] += 1
    return counts


def kind_mix(sited: int) -> list[str]:
    """Kinds for `sited` villages with a site (unshuffled), one of each from FULL_MIX_MIN on."""
    if sited < FULL_MIX_MIN:
        weights = {k: float(OPENSID_WEIGHTS[k]) for k in SMALL_FLEET_KINDS}
        counts = _largest_remainder(sited, weights, 1 if sited >= len(weights) else 0)
        return [k for k in SMALL_FLEET_KINDS for _ in range(counts[k])]
    kinds: list[str] = []
    for family, share in OTHER_SHARE:
        count = max(1, round(sited * share / 100))
        if family == "wordpress":
            count = max(3, count)
            kinds += [WORDPRESS_ORDER[i % len(WORDPRESS_ORDER)] for i in range(count)]
        else:
            kinds += [family] * count
    weights = {k: float(w) for k, w in OPENSID_WEIGHTS.items()}
    counts = _largest_remainder(sited - len(kinds), weights, 1)
    return kinds + [k for k in OPENSID_WEIGHTS for _ in range(counts[k])]


def assign_kinds(sited: int, seed: int) -> list[str]:
    """kind_mix(sited) shuffled by `seed` (deterministic)."""
    kinds = kind_mix(sited)
    random.Random(f"{seed}:kinds").shuffle(kinds)
    return kinds
