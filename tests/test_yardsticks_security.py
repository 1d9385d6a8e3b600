"""Keamanan Digital: header and mixed-content checks, the release list, the score's rules, and
the TLS probe and collector against loopback HTTPS sites with certificates made here (one about
to expire, one expired, one for another name), an HTTP-only site and an old OpenSID.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from aggregator.fetch.client import Fetcher
from aggregator.settings import Settings
from aggregator.yardsticks.collect import YardstickReport, collect_yardsticks
from aggregator.yardsticks.releases import (
    Release,
    check_version,
    load_releases,
    parse_releases,
    release_label,
)
from aggregator.yardsticks.security import (
    SecurityFacts,
    SecuritySettings,
    check_headers,
    find_mixed_content,
    score_security,
)
from aggregator.yardsticks.tlsprobe import TlsCheck, TlsProber
from tests.conftest import Handler, RawServer, response

FIXTURES = Path(__file__).parent / "fixtures" / "yardsticks"
SAVED_BASE = "https://karangsari.example.desa.id"
GOOD_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'self'; frame-ancestors 'self'",
    "referrer-policy": "strict-origin-when-cross-origin",
}

# -- pure checks -------------------------------------------------------------------------


def test_security_headers() -> None:
    assert check_headers(GOOD_HEADERS, https=True) == dict.fromkeys(
        ("hsts", "nosniff", "frame", "referrer"), True
    )
    # HSTS over plain http is ignored by browsers, and max-age=0 switches it off.
    assert not check_headers(GOOD_HEADERS, https=False)["hsts"]
    off = {"strict-transport-security": "max-age=0", "x-frame-options": "SAMEORIGIN"}
    assert check_headers(off, https=True) == {
        "hsts": False,
        "nosniff": False,
        "frame": True,
        "referrer": False,
    }
    assert not check_headers({"referrer-policy": "unsafe-url"}, https=True)["referrer"]


def test_mixed_content_counts_subresources_not_links() -> None:
    page = (FIXTURES / "home_2410_esensi.html").read_bytes()
    count, urls = find_mixed_content(page, SAVED_BASE + "/")
    assert count == 3
    assert urls == (
        "http://karangsari.example.desa.id/desa/logo/favicon.ico",
        "http://cdn.example.com/jquery.min.js",
        "http://karangsari.example.desa.id/desa/upload/artikel/sedang_sotk.jpg",
    )
    assert find_mixed_content(page, "http://karangsari.example.desa.id/") == (0, ())


def test_release_list_and_versions_behind() -> None:
    releases = load_releases()
    assert releases[0] == Release("21.01", "umum", date(2021, 1, 1))
    newest_umum = max((r for r in releases if r.line == "umum"), key=lambda r: r.released)
    assert newest_umum.version == "2601.0.0"
    old = check_version("2407.0.0", releases)
    assert old is not None
    assert (old.label, old.behind, old.newest_label, old.line) == (
        "2407.0.0",
        18,
        "2601.0.0",
        "umum",
    )
    # Patch level: a site on 2407.0.0 is one release behind a listed 2407.0.1.
    patched = parse_releases(
        "version,line,released\n2407.0.0,umum,2024-07-01\n2407.0.1,umum,2024-07-09\n"
    )
    assert check_version("2407.0.0", patched).behind == 1  # type: ignore[union-attr]
    assert check_version("2407.0.1", patched).behind == 0  # type: ignore[union-attr]
    assert check_version("24.07", patched).label == "2407"  # type: ignore[union-attr]
    # Newer than every umum release: premium, compared with premium's newest.
    premium = check_version("v2605.0.0-premium", releases)
    assert premium is not None and (premium.line, premium.behind) == ("premium", 4)
    unknown_future = check_version("27.01", releases)
    assert unknown_future is not None and unknown_future.newer_than_list
    assert check_version(None, releases) is None
    assert release_label("21.01") == "21.01"
    with pytest.raises(ValueError, match="line 2"):
        parse_releases("version,line,released\n24.10,beta,2024-10-01\n")


def _facts(**kw: object) -> SecurityFacts:
    base: dict[str, object] = {
        "has_site": True,
        "https_offered": True,
        "https_enforced": True,
        "cert_days_left": 80,
        "cert_issuer": "Let's Encrypt",
        "platform": "opensid",
        "version": check_version("26.01", load_releases()),
        "headers": dict.fromkeys(("hsts", "nosniff", "frame", "referrer"), True),
        "mixed_content": 0,
        "domain": "karangsari.desa.id",
        "domain_days_left": 200,
    }
    return SecurityFacts(**(base | kw))  # type: ignore[arg-type]


def test_a_well_kept_site_scores_100() -> None:
    score = score_security(_facts(), SecuritySettings())
    assert score.score == 100.0
    reasons = {c.key: c.reason for c in score.components}
    assert reasons["certificate"] == "Sertifikat sah dari Let's Encrypt, berlaku 80 hari lagi"
    assert reasons["domain"] == "Domain karangsari.desa.id aktif 200 hari lagi"


def test_score_rules() -> None:
    s = SecuritySettings()

    def parts(**kw: object) -> dict[str, tuple[float | None, str]]:
        return {c.key: (c.value, c.reason) for c in score_security(_facts(**kw), s).components}

    assert parts(cert_days_left=9)["certificate"][0] == 0.5
    assert parts(cert_problem="expired", cert_days_left=-3)["certificate"] == (
        0.0,
        "Sertifikat HTTPS sudah kedaluwarsa sejak 3 hari lalu",
    )
    assert parts(https_enforced=False)["https"][0] == 0.5
    no_tls = parts(https_offered=False, https_enforced=None, mixed_content=None)
    assert no_tls["https"] == (0.0, "Situs belum bisa dibuka lewat HTTPS")
    assert no_tls["certificate"][0] is None and no_tls["mixed_content"][0] is None
    old = parts(version=check_version("21.01", load_releases()))["platform"]
    assert old == (0.0, "OpenSID 21.01 tertinggal 60 rilis dari 2601.0.0")
    assert parts(version=check_version("25.10", load_releases()))["platform"][0] == 1.0
    wp = parts(platform="wordpress", version=None)["platform"]
    assert wp[0] is None
    assert wp[1].startswith("Versi wordpress tidak dibandingkan (daftar rilis hanya OpenSID)")
    assert parts(domain=None)["domain"][0] is None
    assert parts(domain_days_left=-1)["domain"][0] == 0.0
    hacked = score_security(_facts(open_findings=2), s)
    assert hacked.score == 45.0  # 90 points, halved while compromised
    assert hacked.penalty == "Situs disusupi (temuan integritas terbuka): skor dikurangi 50%"
    assert score_security(_facts(has_site=False), s).score == 0.0


# -- loopback HTTPS sites ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="Sipande Test CA")


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The test CA as the only trust store of the fetcher (httpx reads SSL_CERT_FILE)."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    yield path


def _server_context(ca: trustme.CA, *names: str, days: float, age: float = 30) -> ssl.SSLContext:
    now = datetime.now(UTC)
    cert = ca.issue_cert(
        *names, not_before=now - timedelta(days=age), not_after=now + timedelta(days=days)
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx


class TlsServer(RawServer):
    """RawServer behind TLS."""

    def __init__(self, handler: Handler, context: ssl.SSLContext) -> None:
        super().__init__(handler)
        self.context = context

    async def __aenter__(self) -> TlsServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def _saved(name: str, base: str) -> bytes:
    """A saved page with its links moved onto the loopback site."""
    return (FIXTURES / name).read_bytes().replace(SAVED_BASE.encode(), base.encode())


def _opensid_site(era: str, base: Callable[[], str], headers: dict[str, str]) -> Handler:
    """An OpenSID site answering the collector's requests from saved 2101 or 2410 pages."""
    pages = {
        "/": f"home_{era}.html",
        "/index.php/ppid": f"ppid_{era.split('_')[0]}.json",
        "/index.php/informasi-publik": f"informasi_publik_{era}.html",
        "/index.php/peraturan-desa": f"peraturan_desa_{era}.html",
        "/index.php/peraturan-desa/datatables": "peraturan_desa_datatables_2410.json",
    }

    async def handle(method: str, path: str, _: dict[str, str], w: asyncio.StreamWriter) -> None:
        name = pages.get(path.split("?")[0])
        if name is None or not (FIXTURES / name).exists():
            w.write(response(404, b"not found"))
            return
        kind = "application/json" if name.endswith(".json") else "text/html; charset=UTF-8"
        w.write(response(200, _saved(name, base()), {"content-type": kind, **headers}))

    return handle


def _redirect_to(target: Callable[[], str]) -> Handler:
    async def handle(method: str, path: str, _: dict[str, str], w: asyncio.StreamWriter) -> None:
        w.write(response(301, b"", {"location": target() + path}))

    return handle


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prober(ca_file: Path) -> TlsProber:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    return TlsProber(context=ctx, timeout=3, allow_private=True)


@asynccontextmanager
async def _https_site(
    ca: trustme.CA, *names: str, days: float, age: float = 30, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[TlsServer, RawServer]]:
    """An OpenSID 24.10 site on https and its http:// form redirecting there."""
    box: list[str] = []
    handler = _opensid_site("2410_esensi", lambda: box[0], headers or GOOD_HEADERS)
    async with TlsServer(handler, _server_context(ca, *names, days=days, age=age)) as tls:
        box.append(f"https://127.0.0.1:{tls.port}")
        async with RawServer(_redirect_to(lambda: box[0])) as plain:
            yield tls, plain


async def _collect(
    ca_file: Path, home: str, http: str, https: str, version: str = "24.10"
) -> YardstickReport:
    async with Fetcher(Settings(allow_private_addresses=True, request_timeout=5)) as fetcher:
        return await collect_yardsticks(
            fetcher,
            home,
            platform="opensid",
            version=version,
            open_findings=0,
            now=datetime.now(UTC),
            tls_probe=_prober(ca_file),
            http_url=http,
            https_url=https,
        )


def test_probe_reads_a_good_certificate(ca: trustme.CA, ca_file: Path) -> None:
    async def main() -> None:
        async with _https_site(ca, "127.0.0.1", days=90) as (tls, _):
            check = await _prober(ca_file).probe("127.0.0.1", tls.port)
        assert (check.offered, check.verified, check.problem) == (True, True, None)
        assert check.certificate is not None
        assert check.certificate.names == ("127.0.0.1",)
        assert check.certificate.issuer == "Sipande Test CA"
        assert check.certificate.days_left(datetime.now(UTC)) == 89
        assert check.certificate.matches("127.0.0.1") and not check.certificate.matches("a.desa.id")

    asyncio.run(main())


def test_a_certificate_about_to_expire(ca: trustme.CA, ca_file: Path) -> None:
    async def main() -> None:
        async with _https_site(ca, "127.0.0.1", days=9.5) as (tls, plain):
            site = tls.url
            report = await _collect(ca_file, site + "/", plain.url + "/", site + "/")
        sec = report.security
        assert report.notes == ()
        assert (sec.https_offered, sec.https_enforced, sec.cert_problem) == (True, True, None)
        assert sec.cert_days_left == 9
        assert sec.headers == dict.fromkeys(("hsts", "nosniff", "frame", "referrer"), True)
        assert sec.mixed_content == 3  # the saved home page loads three http:// resources
        assert sec.version is not None and sec.version.label == "2410"
        assert [i.text for i in report.coaching][:2] == [
            "Sertifikat HTTPS kedaluwarsa dalam 9 hari",
            "Perbarui OpenSID 2410 ke versi terbaru (2601.0.0)",
        ]
        # The KIP side was read over the same https site, from the saved 24.10 answers.
        assert report.kip.documents is not None and len(report.kip.documents) == 6
        assert {i.key: i.status for i in report.kip.items} == dict.fromkeys(
            ("apbdes", "realisasi", "peraturan", "profil", "struktur", "perangkat"), "found"
        )
        assert report.kip.informasi_publik_url == site + "/index.php/informasi-publik"
        reasons = {c.key: c.reason for c in report.security_score.components}
        assert reasons["certificate"] == "Sertifikat sah dari Sipande Test CA, berlaku 9 hari lagi"
        stored = json.loads(json.dumps(report.as_json()))  # storable as it is
        assert stored["security"]["cert_days_left"] == 9 and stored["tls"]["verified"] is True
        assert report.columns()["cert_days_left"] == 9

    asyncio.run(main())


def test_an_expired_certificate(ca: trustme.CA, ca_file: Path) -> None:
    async def main() -> None:
        async with _https_site(ca, "127.0.0.1", days=-3.5, age=100) as (tls, plain):
            report = await _collect(ca_file, tls.url + "/", plain.url + "/", tls.url + "/")
        assert report.tls is not None
        assert (report.tls.offered, report.tls.verified, report.tls.problem) == (
            True,
            False,
            "expired",
        )
        assert report.security.cert_days_left == -4
        assert (
            report.coaching[0].text
            == "Sertifikat HTTPS sudah kedaluwarsa sejak 4 hari lalu: perpanjang segera"
        )
        # http:// redirects to a site browsers refuse: nothing of the KIP side could be read.
        assert report.kip.documents is None
        assert {i.status for i in report.kip.items} == {"unknown"}
        assert any("https:" in n for n in report.notes)

    asyncio.run(main())


def test_a_certificate_for_another_name(ca: trustme.CA, ca_file: Path) -> None:
    async def main() -> None:
        async with _https_site(ca, "lain.desa.id", days=60) as (tls, plain):
            check = await _prober(ca_file).probe("127.0.0.1", tls.port)
            report = await _collect(ca_file, tls.url + "/", plain.url + "/", tls.url + "/")
        assert (check.verified, check.problem) == (False, "wrong_name")
        assert check.certificate is not None and check.certificate.names == ("lain.desa.id",)
        cert_items = [i for i in report.coaching if i.key == "cert_invalid"]
        assert [(i.text, i.why) for i in cert_items] == [
            (
                "Pasang sertifikat HTTPS yang sah untuk alamat situs desa",
                "Sertifikat HTTPS dibuat untuk nama situs lain (sertifikat untuk lain.desa.id)",
            )
        ]
        component = {c.key: c for c in report.security_score.components}["certificate"]
        assert component.value == 0.0

    asyncio.run(main())


def test_an_http_only_site_with_an_old_opensid(ca_file: Path) -> None:
    async def main() -> None:
        box: list[str] = []
        handler = _opensid_site("2101_natra", lambda: box[0], {"x-frame-options": "DENY"})
        async with RawServer(handler) as site:
            box.append(site.url)
            https = f"https://127.0.0.1:{_closed_port()}/"
            report = await _collect(ca_file, site.url + "/", site.url + "/", https, version="21.01")
        sec = report.security
        assert report.tls is not None and report.tls.problem == "no_https"
        assert (sec.https_offered, sec.https_enforced, sec.mixed_content) == (False, None, None)
        assert sec.headers == {"hsts": False, "nosniff": False, "frame": True, "referrer": False}
        assert [i.key for i in report.coaching] == [
            "no_https",
            "apbdes",
            "realisasi",
            "platform_version",
            "ppid_categories",
            "ppid_freshness",
            "security_headers",
        ]
        texts = {i.key: i.text for i in report.coaching}
        assert texts["platform_version"] == "Perbarui OpenSID 21.01 ke versi terbaru (2601.0.0)"
        assert texts["apbdes"] == f"Unggah APBDes {report.kip.year} ke menu PPID"
        reasons = {c.key: (c.value, c.reason) for c in report.security_score.components}
        assert reasons["https"] == (0.0, "Situs belum bisa dibuka lewat HTTPS")
        assert reasons["platform"][0] == 0.0

    asyncio.run(main())


def test_a_plain_http_server_on_the_tls_port_is_no_https(ca_file: Path) -> None:
    async def main() -> None:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        try:
            port = server.sockets[0].getsockname()[1]
            check = await _prober(ca_file).probe("127.0.0.1", port)
        finally:
            server.close()
            await server.wait_closed()
        assert (check.offered, check.problem) == (False, "no_https")

    asyncio.run(main())


def test_probe_refuses_private_targets_unless_allowed() -> None:
    async def main() -> None:
        check = await TlsProber(timeout=1).probe("127.0.0.1", _closed_port())
        assert check == TlsCheck(
            "127.0.0.1", check.port, False, False, "blocked", check.detail, None
        )
        assert "non-public" in check.detail

    asyncio.run(main())
