"""Keterbukaan Informasi: golden pairs of the readers (OpenSID /ppid and informasi-publik pages
of several releases), whole-site KIP facts and scores, and the score's rules.

Golden pairs live in tests/fixtures/yardsticks: `<case>.<ext>` and `<case>.expected.json`,
whose `parser` names the reader applied and `result` is what it must return. `kip_*` cases
combine several saved answers of one site (`inputs`) into facts and a score at `now`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.errors import ParseError
from aggregator.yardsticks.common import jsonable
from aggregator.yardsticks.kip import (
    KipFacts,
    KipSettings,
    KipSources,
    RequiredItem,
    build_kip_facts,
    score_kip,
)
from aggregator.yardsticks.kip_parse import (
    DocumentPage,
    PpidDocument,
    category_of,
    parse_datatables,
    parse_document_page,
    parse_home_links,
    parse_ppid_documents,
    year_of,
)

FIXTURES = Path(__file__).parent / "fixtures" / "yardsticks"
CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
NOW = datetime.fromisoformat("2026-03-15T10:00:00+07:00")

PARSERS: dict[str, Callable[[bytes, str], Any]] = {
    "ppid": parse_ppid_documents,
    "document_page": parse_document_page,
    "datatables": parse_datatables,
    "home_links": parse_home_links,
}


def _read(name: str | None, base: str, parser: str) -> Any:
    return None if name is None else PARSERS[parser]((FIXTURES / name).read_bytes(), base)


def kip_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Facts and score of one site from the saved answers named in `spec["inputs"]`."""
    base, inputs = spec["base_url"].rstrip("/"), spec["inputs"]
    peraturan = _read(inputs.get("peraturan"), base, "document_page")
    if peraturan is not None and not peraturan.readable and "peraturan_json" in inputs:
        peraturan = _read(inputs["peraturan_json"], base, "datatables")
    sources = KipSources(
        ppid=_read(inputs.get("ppid"), base, "ppid"),
        informasi_publik=_read(inputs.get("informasi_publik"), base, "document_page"),
        informasi_publik_url=inputs.get("informasi_publik_url"),
        peraturan=peraturan,
        peraturan_url=inputs.get("peraturan_url"),
        home_links=_read(inputs.get("home"), base, "home_links"),
    )
    facts = build_kip_facts(sources, datetime.fromisoformat(spec["now"]))
    return {"facts": jsonable(facts), "score": score_kip(facts, KipSettings()).as_json()}


def run_case(case: str) -> tuple[Any, Any]:
    """(what the readers return now, what the golden file expects) for one case."""
    spec = json.loads((FIXTURES / f"{case}.expected.json").read_text(encoding="utf-8"))
    if spec["parser"] == "kip_facts":
        return kip_case(spec), spec["result"]
    (raw,) = [p for p in FIXTURES.glob(f"{case}.*") if ".expected." not in p.name]
    try:
        got = jsonable(PARSERS[spec["parser"]](raw.read_bytes(), spec["base_url"].rstrip("/")))
    except ParseError as e:
        got = {"error": str(e)}
    return got, spec["result"]


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    got, expected = run_case(case)
    assert got == expected


def test_every_saved_answer_has_its_golden_parse() -> None:
    raw = {p.name.split(".")[0] for p in FIXTURES.iterdir() if ".expected." not in p.name}
    parsed = {c for c in CASES if not c.startswith("kip_")}
    assert raw == parsed
    assert {"kip_2101", "kip_2410", "kip_2601"} <= set(CASES)


def test_categories_from_ids_and_labels() -> None:
    assert [category_of(v) for v in ("1", "2", "3", "4", "0", None)] == [
        "berkala",
        "serta_merta",
        "setiap_saat",
        "dikecualikan",
        None,
        None,
    ]
    labels = ("Informasi Berkala", "Informasi Serta-merta", "INFORMASI SETIAP SAAT", "serta merta")
    assert [category_of(v) for v in labels] == [
        "berkala",
        "serta_merta",
        "setiap_saat",
        "serta_merta",
    ]
    assert category_of("2", ids=False) is None  # a row number in a table is not a category


def test_the_budget_year_comes_from_the_name_first() -> None:
    assert year_of("Perdes No 7 Tahun 2025 tentang APBDes Tahun Anggaran 2026", "2025") == 2026
    assert year_of("Daftar Informasi Publik", "2025") == 2025
    assert year_of("Daftar Informasi Publik", "0") is None


def _doc(name: str, category: str | None, year: int | None, uploaded: str) -> PpidDocument:
    when = datetime.fromisoformat(uploaded)
    return PpidDocument(name, category, year, when, f"https://desa.example/d/{name[:5]}")


def _facts(docs: list[PpidDocument] | None, links: dict[str, str] | None = None) -> KipFacts:
    return build_kip_facts(
        KipSources(ppid=None if docs is None else tuple(docs), home_links=links), NOW
    )


def test_a_complete_village_scores_100() -> None:
    docs = [
        _doc("APBDes 2026", "berkala", 2026, "2026-01-05T09:00:00+07:00"),
        _doc("Laporan Realisasi APBDes 2025", "berkala", 2025, "2026-02-01T09:00:00+07:00"),
        _doc("Pengumuman Banjir", "serta_merta", 2026, "2026-02-20T09:00:00+07:00"),
        _doc("Peraturan Desa tentang Pungutan", "setiap_saat", 2025, "2025-10-01T09:00:00+07:00"),
    ]
    links = {"profil": "p", "struktur": "s", "perangkat": "a"}
    score = score_kip(_facts(docs, links), KipSettings())
    assert score.score == 100.0
    assert all(c.value == 1.0 for c in score.components)


def test_nothing_readable_is_unknown_not_zero() -> None:
    facts = _facts(None, None)
    assert [i.status for i in facts.items] == ["unknown"] * 6
    score = score_kip(facts, KipSettings())
    assert score.score == 0.0
    assert all(c.value is None and c.reason.endswith("(tidak dihitung)") for c in score.components)


def test_last_years_budget_is_stale_and_earns_a_little() -> None:
    docs = [_doc("APBDes Tahun 2025", "berkala", 2025, "2025-01-05T09:00:00+07:00")]
    facts = _facts(docs, {})
    apbdes = facts.item("apbdes")
    assert apbdes == RequiredItem(
        "apbdes",
        "APBDes 2026",
        "stale",
        "https://desa.example/d/APBDe",
        "Terakhir tahun 2025: APBDes Tahun 2025 (5 Januari 2025)",
        2025,
    )
    component = {c.key: c for c in score_kip(facts, KipSettings()).components}["apbdes"]
    assert component.value == 0.3
    assert component.reason.startswith("APBDes 2026 belum diperbarui. Terakhir tahun 2025")


def test_a_realisation_report_is_not_a_budget() -> None:
    docs = [
        _doc(
            "Laporan Realisasi APBDes 2026 Semester I", "berkala", 2026, "2026-03-01T09:00:00+07:00"
        )
    ]
    facts = _facts(docs, {})
    assert facts.item("apbdes") is not None and facts.item("apbdes").status == "missing"  # type: ignore[union-attr]
    assert facts.item("realisasi").status == "found"  # type: ignore[union-attr]


def test_freshness_fades_after_six_months() -> None:
    old = [_doc("Daftar Informasi Publik", "setiap_saat", 2024, "2025-03-15T10:00:00+07:00")]
    component = {c.key: c for c in score_kip(_facts(old, {}), KipSettings()).components}
    assert 0.6 < component["freshness"].value < 0.7  # type: ignore[operator]
    assert component["freshness"].reason == "Dokumen PPID terakhir diunggah 365 hari lalu"
    assert component["categories"].value == pytest.approx(1 / 3, abs=0.001)


def test_a_page_listing_documents_stands_in_for_unreadable_json() -> None:
    page = DocumentPage(True, (_doc("APBDes 2026", "berkala", 2026, "2026-01-05T09:00:00+07:00"),))
    facts = build_kip_facts(KipSources(ppid=None, informasi_publik=page), NOW)
    assert facts.documents == page.documents
    assert facts.item("apbdes").status == "found"  # type: ignore[union-attr]


def test_no_site_scores_zero_with_a_reason() -> None:
    facts = build_kip_facts(KipSources(), NOW, has_site=False)
    score = score_kip(facts, KipSettings())
    assert (score.score, score.components, score.penalty) == (
        0.0,
        (),
        "Belum ada situs desa: skor 0",
    )
