"""The Pembinaan list: synthetic villages get exactly the to-dos they deserve, most urgent
first; and every simulated OpenSID site of the fleet gets both scores with reasons and the
items its site deserves, judged from the fleet's own ground truth."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from aggregator.decide.scoring import SERVICE_KINDS, VillageFacts
from aggregator.fetch.client import Fetcher
from aggregator.settings import Settings
from aggregator.yardsticks.coaching import CoachingItem, coaching_list, most_urgent_first
from aggregator.yardsticks.collect import YardstickReport, collect_yardsticks
from aggregator.yardsticks.common import jsonable
from aggregator.yardsticks.kip import KipFacts, RequiredItem
from aggregator.yardsticks.kip_parse import PpidDocument
from aggregator.yardsticks.releases import check_version, load_releases
from aggregator.yardsticks.security import SecurityFacts
from aggregator.yardsticks.tlsprobe import TlsProber
from fleet import Fleet

NOW = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)
ALL_HEADERS = dict.fromkeys(("hsts", "nosniff", "frame", "referrer"), True)


def _security(**kw: Any) -> SecurityFacts:
    base: dict[str, Any] = {
        "has_site": True,
        "https_offered": True,
        "https_enforced": True,
        "cert_days_left": 80,
        "platform": "opensid",
        "version": check_version("26.01", load_releases()),
        "headers": ALL_HEADERS,
        "mixed_content": 0,
        "domain": "sukamaju.desa.id",
        "domain_days_left": 300,
    }
    return SecurityFacts(**(base | kw))


def _items(**status: str) -> tuple[RequiredItem, ...]:
    keys = ("apbdes", "realisasi", "peraturan", "profil", "struktur", "perangkat")
    return tuple(RequiredItem(k, k, status.get(k, "found"), None, f"detail {k}") for k in keys)


def _kip(documents: tuple[PpidDocument, ...] | None = None, **status: str) -> KipFacts:
    if documents is None:
        when = NOW - timedelta(days=20)
        documents = tuple(
            PpidDocument(f"Dokumen {c}", c, 2026, when, None)
            for c in ("berkala", "serta_merta", "setiap_saat")
        )
    days = 20.0 if documents else None
    return KipFacts(True, 2026, documents, days, None, _items(**status))


ACTIVE = VillageFacts(
    has_site=True,
    compromised=False,
    days_since_post=2,
    posts_30d=9,
    checks=10,
    checks_ok=10,
    services=dict.fromkeys(SERVICE_KINDS, True),
)


def test_an_exemplary_village_has_nothing_to_do() -> None:
    assert coaching_list(kip=_kip(), security=_security(), activity=ACTIVE) == ()


def test_the_example_village() -> None:
    items = coaching_list(
        kip=_kip(apbdes="missing"),
        security=_security(cert_days_left=9, version=check_version("2407", load_releases())),
        activity=ACTIVE,
    )
    assert [i.text for i in items] == [
        "Sertifikat HTTPS kedaluwarsa dalam 9 hari",
        "Unggah APBDes 2026 ke menu PPID",
        "Perbarui OpenSID 2407 ke versi terbaru (2601.0.0)",
    ]
    assert [i.theme for i in items] == ["keamanan", "keterbukaan", "keamanan"]


def test_a_neglected_village_most_urgent_first() -> None:
    security = _security(
        https_offered=False,
        https_enforced=None,
        cert_days_left=None,
        open_findings=3,
        domain_days_left=-2,
        headers={"hsts": False, "nosniff": True, "frame": False, "referrer": True},
        mixed_content=None,
    )
    kip = KipFacts(True, 2026, (), None, None, _items(apbdes="missing", realisasi="missing"))
    activity = VillageFacts(
        has_site=True,
        compromised=True,
        days_since_post=45,
        posts_30d=0,
        checks=10,
        checks_ok=9,
        services={**dict.fromkeys(SERVICE_KINDS, True), "lapak": False, "pengaduan": False},
    )
    items = coaching_list(kip=kip, security=security, activity=activity)
    assert [(i.key, i.text) for i in items] == [
        (
            "integrity",
            "Bersihkan situs dari konten sisipan (judi online/peretasan) dan ganti semua kata "
            "sandi admin",
        ),
        ("domain_expired", "Domain sukamaju.desa.id sudah kedaluwarsa: perpanjang segera"),
        ("no_https", "Aktifkan HTTPS di situs desa"),
        ("apbdes", "Unggah APBDes 2026 ke menu PPID"),
        ("realisasi", "Unggah laporan realisasi APBDes 2025 ke menu PPID"),
        ("news", "Terbitkan berita kegiatan desa secara rutin"),
        ("ppid_documents", "Unggah dokumen informasi publik ke menu PPID"),
        (
            "security_headers",
            "Minta pengelola server menambahkan header keamanan: HSTS, X-Frame-Options",
        ),
        ("services", "Aktifkan dan isi layanan di situs: Lapak, Pengaduan"),
    ]
    assert items[0].why == "3 temuan integritas terbuka"


def test_stored_items_merge_with_live_activity_items() -> None:
    stored = coaching_list(kip=_kip(apbdes="missing"), security=_security(cert_days_left=3))
    rebuilt = [CoachingItem(**jsonable(i)) for i in stored]
    live = coaching_list(activity=replace(ACTIVE, days_since_post=40))
    merged = most_urgent_first(rebuilt, live)
    assert [i.key for i in merged] == ["cert_expiring", "apbdes", "news"]


def test_expiries_are_ordered_by_days_left() -> None:
    items = coaching_list(security=_security(cert_days_left=12, domain_days_left=5))
    assert [i.text for i in items] == [
        "Domain sukamaju.desa.id kedaluwarsa dalam 5 hari",
        "Sertifikat HTTPS kedaluwarsa dalam 12 hari",
    ]


def test_unknowns_are_never_coached() -> None:
    security = SecurityFacts(has_site=True, https_offered=None, https_enforced=None)
    kip = KipFacts(True, 2026, None, None, None, _items(**dict.fromkeys(("apbdes", "realisasi",
        "peraturan", "profil", "struktur", "perangkat"), "unknown")))  # fmt: skip
    assert coaching_list(kip=kip, security=security) == ()


def test_no_site() -> None:
    (item,) = coaching_list(has_site=False, kip=_kip(), security=_security())
    assert item.text == "Buat situs resmi desa (domain desa.id)"


# -- the fleet ---------------------------------------------------------------------------

KINDS = (
    "opensid-2101-natra",
    "opensid-2305-esensi",
    "opensid-2410-esensi",
    "opensid-2410-natra",
    "opensid-2508-esensi",
    "opensid-2601-natra",
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _deserved(fleet: Fleet, code: str, ppid: dict[str, Any]) -> set[str]:
    """What a simulated site deserves, from the fleet's ground truth (its documents are drawn
    from a fixed list of names, services.DOCUMENTS)."""
    year = fleet.now.year
    keys = {"no_https", "security_headers", "profil", "struktur"}  # http only, bare headers,
    # and the simulated menus link neither a profile nor an organisation chart.
    version = check_version(fleet.version_label(code), load_releases())
    if version is not None and version.behind > 3:
        keys.add("platform_version")
    if fleet.services(code)["pemerintah"] is None:  # not in the menu: the page 404s
        keys.add("perangkat")
    docs = ppid["data"]["ppid"]
    names = [d["nama"] for d in docs]
    if f"Peraturan Desa tentang APBDes Tahun {year}" not in names:
        keys |= {"apbdes", "peraturan"}
    if f"Laporan Realisasi APBDes Tahun {year - 1}" not in names:
        keys.add("realisasi")
    if not docs:
        return keys | {"ppid_documents"}
    kinds = {d["kategori"] for d in docs}
    if kinds != {"Informasi Berkala", "Informasi Serta Merta", "Informasi Setiap Saat"}:
        keys.add("ppid_categories")
    newest = max(datetime.fromisoformat(d["tgl_upload"] + "+07:00") for d in docs)
    if (fleet.now - newest).total_seconds() / 86400 > 183:
        keys.add("ppid_freshness")
    return keys


def test_every_fleet_village_gets_both_scores_and_what_it_deserves() -> None:
    async def main() -> list[tuple[str, YardstickReport, dict[str, Any]]]:
        out = []
        async with Fleet.of_kinds(KINDS * 2, seed=11, now=NOW) as fleet:
            settings = Settings(allow_private_addresses=True, request_timeout=5)
            prober = TlsProber(timeout=2, allow_private=True)
            async with Fetcher(settings) as fetcher, httpx.AsyncClient() as client:
                for village in fleet.villages:
                    url = fleet.url(village.code)
                    ppid = json.loads((await client.get(url + "ppid")).content)
                    report = await collect_yardsticks(
                        fetcher,
                        url,
                        platform="opensid",
                        version=fleet.version_label(village.code),
                        open_findings=0,
                        now=fleet.now,
                        tls_probe=prober,
                        https_url=f"https://127.0.0.1:{_closed_port()}/",
                    )
                    out.append((village.code, report, ppid))
            deserved = {code: _deserved(fleet, code, ppid) for code, _, ppid in out}
        return [(code, report, {"deserved": deserved[code]}) for code, report, _ in out]

    results = asyncio.run(main())
    assert len(results) == 12
    for code, report, truth in results:
        for score in (report.kip_score, report.security_score):
            assert 0 <= score.score <= 100
            assert score.components and all(c.reason for c in score.components)
        got = {i.key for i in report.coaching}
        assert got == truth["deserved"], code
        ranks = [i.rank for i in report.coaching]
        assert ranks == sorted(ranks), code
    # The mix covers both sides of every rule at least once.
    seen = [{i.key for i in r.coaching} for _, r, _ in results]
    for key in ("platform_version", "perangkat", "apbdes", "realisasi"):
        assert any(key in s for s in seen) and any(key not in s for s in seen), key
