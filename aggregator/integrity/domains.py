"""Hosts and links (docs/design.md): registrable domain, allowlist (G9), free hosts,
gambling-ish hosts and links.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from aggregator.integrity import vocabulary as vocab
from aggregator.integrity.match import Terms, find_terms

# Tier B words that mark a host or a url path on their own ("brandy-toto.example").
_STRONG_B = frozenset((*vocab.TIER_B_IN_WORDS, "toto", "rtp"))


def host_of(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


@lru_cache(maxsize=4096)  # a page's or sitemap's links name a few hosts many times
def registrable_domain(host: str) -> str:
    """The site a host belongs to: `desa-a.desa.id` and `desa-b.desa.id` differ (PSL zones)."""
    host = host.rstrip(".").lower().removeprefix("www.")
    labels = host.split(".")
    for suffix in vocab.MULTI_LABEL_SUFFIXES:
        if host.endswith("." + suffix):
            depth = suffix.count(".") + 2
            return ".".join(labels[-depth:])
    return ".".join(labels[-2:])


def same_site(host: str, site_host: str) -> bool:
    return bool(host) and (
        host == site_host or registrable_domain(host) == registrable_domain(site_host)
    )


def _under(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def is_allowlisted(host: str) -> bool:
    """G9: government zones, the platform vendors, social networks and common CDNs."""
    return _under(host, vocab.ALLOWED_SUFFIXES) or _under(host, vocab.ALLOWED_DOMAINS)


def is_official(host: str) -> bool:
    """G8: a move to an official `.go.id` / `.desa.id` address is "moved", not hijacked."""
    return _under(host, ("go.id", "desa.id"))


def is_free_host(host: str) -> bool:
    return _under(host, vocab.FREE_HOSTS)


def has_abused_tld(host: str) -> bool:
    return host.rsplit(".", 1)[-1] in vocab.ABUSED_TLDS


def host_terms(host: str) -> Terms:
    """Vocabulary in the labels of a host, TLD left out."""
    return find_terms(host.rsplit(".", 1)[0] if "." in host else host, slug=True)


def gambling_host(host: str) -> bool:
    """The host itself reads as gambling: a Tier A phrase, a distinctive Tier B word,
    or a brand-shaped label ("brandx88")."""
    if not host or is_allowlisted(host):
        return False
    terms = host_terms(host)
    labels = host.replace("-", ".").split(".")
    return (
        bool(terms.tier_a)
        or bool(terms.tier_b & _STRONG_B)
        or len(terms.tier_b) >= 2
        or any(vocab.BRAND_TOKEN.fullmatch(label) for label in labels)
    )


def gambling_url(url: str) -> bool:
    """A redirect or script target that is gambling-ish by host or by path."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = find_terms(f"{parts.path} {parts.query}", slug=True)
    return gambling_host(host) or (not is_allowlisted(host) and bool(path.tier_a))


@lru_cache(maxsize=4096)
def gambling_link(href: str, anchor: str, *, site_host: str) -> bool:
    """An off-site gambling link: off-site and the host, path or anchor text reads as gambling.
    Allowlisted hosts (a government page about judi online) count only by their anchor text.
    Remembered: a site's menu and footer links recur on each page a scan reads, and each page
    is judged for itself and again for the comparison of views."""
    host = host_of(href)
    if not host or same_site(host, site_host):
        return False
    text = find_terms(anchor, slug=True)
    if is_allowlisted(host):
        return bool(text.tier_a)
    if text.any_gambling() or vocab.DOMAIN_LIKE_TEXT.search(anchor.lower()):
        return True
    if gambling_url(href) or bool(text.tier_b & _STRONG_B):
        return True
    return bool(text.tier_b) and (is_free_host(host) or has_abused_tld(host))
