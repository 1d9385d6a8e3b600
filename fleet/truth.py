"""Ground truth about each simulated site, for tests: what a correct connector, detector or
poller should find there (kind, platform, version, widgets, compromise pattern, fault).
"""

from __future__ import annotations

import ssl

from . import judol, tls
from .model import FAULTS, Article
from .services import SERVICE_KEYS
from .site import Site


class GroundTruth:
    """The Fleet's read-only answers about its sites (a mixin over `_sites`)."""

    _sites: dict[str, Site]
    _host: str

    def _site(self, code: str) -> Site:
        try:
            return self._sites[code]
        except KeyError:
            raise KeyError(f"no village {code!r} in this fleet") from None

    # --- per kind ---------------------------------------------------------------------------

    def kind(self, code: str) -> str:
        """The site's kind (one of KINDS)."""
        return self._site(code).spec.name

    def expected_platform(self, code: str) -> str:
        """What a connector should detect: "opensid", "wordpress", "feed" or "html"."""
        return self._site(code).spec.platform

    def version_label(self, code: str) -> str | None:
        """The version a connector should report, as the site states it: "2410.0.0" or
        "21.01" (OpenSID), "6.6.2" (WordPress), or None."""
        spec = self._site(code).spec
        return spec.full_version if spec.platform == "opensid" else spec.label

    def current_version(self, code: str) -> str | None:
        """OpenSID's month-only `current_version` ("24.10", as in the feed), else None."""
        spec = self._site(code).spec
        return spec.label if spec.platform == "opensid" else None

    def visitors(self, code: str) -> dict[str, int]:
        """today/yesterday/total as the OpenSID visitor widget shows them ({} without one)."""
        site = self._site(code)
        return site.visitors.as_dict() if site.spec.platform == "opensid" else {}

    def services(self, code: str) -> dict[str, int | None]:
        """Items the lapak, ppid, pengaduan, pembangunan and pemerintah pages (or their
        /internal_api JSON) show, plus "kehadiran" ("Hadir" badges); None when it 404s."""
        site = self._site(code)
        if site.spec.platform != "opensid":
            return dict.fromkeys(SERVICE_KEYS, None)
        return site.services.counts()

    # --- integrity ----------------------------------------------------------------

    def compromised(self, code: str) -> str | None:
        """The docs/design.md pattern the site is compromised with ("P1", "P2", "P4", "P7",
        "P8", "P9", "P11", "P12"; `judol.EXPECTED_RULE` maps it to the decisive rule), or None
        for a clean site (the clean_* lookalikes included)."""
        site = self._site(code)
        return judol.pattern_of(site.village.behaviour, code)

    def planted_articles(self, code: str) -> list[Article]:
        """Articles the behaviour adds to the site's news (spam posts, lookalike news, hostile
        markup), newest first; they are part of `articles(code)` too."""
        return list(self._site(code).planted())

    def spam_articles(self, code: str) -> list[Article]:
        """The injected spam posts (P4) a detector must flag; [] on other sites."""
        site = self._site(code)
        return list(site.planted()) if site.village.behaviour == "judol_injected_posts" else []

    def body_injected_articles(self, code: str) -> list[Article]:
        """Older posts whose body alone carries a hidden link block (judol_post_body): not
        on the home page nor among the newest items; [] on other sites."""
        site = self._site(code)
        return list(site.planted()) if site.village.behaviour == "judol_post_body" else []

    def doorway_urls(self, code: str) -> list[str]:
        """P6 doorway urls the spam sitemap lists (each answers with a landing page); [] on
        sites without judol_doorway_sitemap. Needs the fleet started."""
        site = self._site(code)
        if site.village.behaviour != "judol_doorway_sitemap":
            return []
        if site.port is None:
            raise RuntimeError("the fleet is not started; call start() first")
        base = site.info(self._host).base
        values = judol.doorways(code, site.seed)
        return [f"{base}/?{judol.DOORWAY_PARAM}={value}" for value in values]

    # --- faults -------------------------------------------------------------------

    def fault(self, code: str) -> str | None:
        """The fault the site serves (one of FAULTS; see faults.EXPECTED_FAULT_PHASE for what a
        correct poller records), None for a working site."""
        behaviour = self._site(code).village.behaviour
        return behaviour if behaviour in FAULTS else None

    @staticmethod
    def tls_ca_pem() -> bytes:
        """PEM of the CA behind the tls_* sites' certificates (trusted by nothing by default;
        write it to a file and point SSL_CERT_FILE at it to make httpx trust it)."""
        return tls.ca_pem()

    @staticmethod
    def trust_tls(context: ssl.SSLContext) -> None:
        """Make a client context trust the tls_* sites' CA, to see why they fail (expired,
        wrong name) rather than merely "unable to get local issuer certificate"."""
        tls.trust(context)
