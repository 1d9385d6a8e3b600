"""Integrity watch on saved pages (golden pairs: <case>.<html|xml|txt|json> or a
<case>.{browser,crawler,search}.html triple, + <case>.expected.json), and unit tests for
normalisation, the anti-judol guard, spam titles, hiding rules, redirects and scoring.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from aggregator.integrity import (
    Signal,
    analyse_item,
    analyse_page,
    analyse_prefix,
    analyse_redirect,
    analyse_robots,
    analyse_sitemap,
    assess,
    compare_views,
    is_spam_item,
    verdict,
)
from aggregator.integrity.css import declarations, hiding_reason
from aggregator.integrity.domains import gambling_link, registrable_domain
from aggregator.integrity.match import find_terms, guarded
from aggregator.integrity.normalise import clean_evidence, fold, fold_slug, leet, obfuscated_runs
from aggregator.integrity.verdict import site_score

FIXTURES = Path(__file__).parent / "fixtures" / "integrity"
CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
VIEWS = ("browser", "crawler", "search")


def _expected(case: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{case}.expected.json").read_text("utf-8"))
    return data


@cache
def _signals(case: str) -> tuple[Signal, ...]:
    """Run the analyser the fixture's file type calls for."""
    expected = _expected(case)
    url, host = expected["url"], expected["site_host"]
    if (FIXTURES / f"{case}.browser.html").exists():
        raw = [(FIXTURES / f"{case}.{v}.html").read_bytes() for v in VIEWS]
        statuses = expected.get("statuses")
        return tuple(compare_views(*raw, url, site_host=host, statuses=statuses))
    for ext, run in (
        (".html", lambda b: analyse_page(b, url, site_host=host)),
        (".xml", lambda b: analyse_sitemap(b, url, site_host=host)),
        (".txt", lambda b: analyse_robots(b, url, site_host=host)),
        (".json", lambda b: analyse_prefix(b, url, site_host=host, where="api")),
    ):
        path = FIXTURES / f"{case}{ext}"
        if path.exists():
            return tuple(run(path.read_bytes()))
    raise AssertionError(f"no input file for fixture {case}")


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    expected = _expected(case)
    signals = _signals(case)
    assessment = assess(signals, expected["url"])
    got = {
        "signals": sorted(s.code for s in signals),
        "level": assessment.level,
        "findings": sorted(f.kind for f in assessment.findings),
    }
    want = {k: expected[k] for k in ("signals", "level", "findings")}
    assert got == want, [f"{s.code} {s.points} {s.where}: {s.evidence}" for s in signals]
    assert verdict(signals, expected["url"]) == list(assessment.findings)


def test_every_static_pattern_of_the_spec_has_a_fixture() -> None:
    specs = " ".join(_expected(case)["spec"] for case in CASES)
    for n in range(1, 17):
        assert re.search(rf"\bP{n}\b", specs), f"no fixture for P{n}"
    for case in ("T1", "T2", "T4", "T6", "T7", "T8", "T10", "T11", "T14", "T15", "T17", "T22"):
        assert re.search(rf"\b{case}\b", specs), f"no fixture for {case}"


def test_evidence_is_short_defanged_and_free_of_markup() -> None:
    for case in CASES:
        expected = _expected(case)
        signals = _signals(case)
        for s in signals:
            assert 0 < len(s.evidence) <= 300, (case, s)
            assert "<script" not in s.evidence.lower() and "<" not in s.evidence, (case, s)
            assert not re.search(r"\bhttps?://", s.evidence), (case, s)
        for finding in verdict(signals, expected["url"]):
            assert finding.url == expected["url"] and finding.score > 0
            assert finding.level in ("compromised", "suspicious")
            assert finding.signals and "<script" not in finding.evidence.lower()


def test_evidence_lets_an_officer_find_the_injection() -> None:
    (hidden,) = _signals("p02_class_hidden")
    assert "div.wdg-xx9" in hidden.evidence and "bottom:-800px" in hidden.evidence
    assert "hxxps://brandx88.example/" in hidden.evidence and '"slot gacor' in hidden.evidence
    (title,) = _signals("p12_head_title")
    assert 'title "Desa Sukamaju | Slot Gacor Gampang Menang"' in title.evidence
    (sitemap,) = _signals("p07_doorway_sitemap")
    assert "?buls=" in sitemap.evidence and "40 loc urls" in sitemap.evidence
    (cloak,) = _signals("p08_cloak_ua")
    assert cloak.where == "variant:crawler" and "SLOT GACOR" in cloak.evidence
    (js,) = [s for s in _signals("p10_js_cloaker") if s.code == "js_cloaking"]
    assert "decoded hxxps://brandx88.example/" in js.evidence  # base64 in atob() was read


def test_signal_refuses_long_or_markup_evidence() -> None:
    with pytest.raises(ValueError):
        Signal("spam_title", 60, "x" * 301, "home")
    with pytest.raises(ValueError):
        Signal("spam_title", 60, "<script>alert(1)</script>", "home")
    cleaned = clean_evidence("<script>location='https://brandx88.example/'</script>" + "y" * 400)
    assert len(cleaned) <= 300 and "<" not in cleaned and "hxxps://" in cleaned


# --- normalisation (P15) ---


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("𝐒𝐋𝐎𝐓 𝐆𝐀𝐂𝐎𝐑", "slot gacor"),  # mathematical bold
        ("ＳＬＯＴ　ＧＡＣＯＲ", "slot gacor"),  # full-width letters and space
        ("s\u200blot g\u200dacor\ufeff", "slot gacor"),  # zero-width characters
        ("ѕlot gасor", "slot gacor"),  # Cyrillic ѕ, а, с
        ("ＳＬＯＴ̲ ǵacor", "slot gacor"),  # combining marks
        ("GACORRRR MAXWIIIN", "gacorr maxwiin"),  # runs squeezed to two
        ("sl0t g4c0r m4xw1n", "slot gacor maxwin"),  # a digit between letters is a letter
        ("Pasal 303 KUHP, RT 05, toto4d", "pasal 303 kuhp, rt 05, toto4d"),  # real digits kept
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_slug_folding_and_leet() -> None:
    assert fold_slug("/2025/05/Slot-Gacor_Maxwin.html") == "2025 05 slot gacor maxwin html"
    assert leet(fold_slug("5lot-g4c0r")) == "slot gacor"
    assert find_terms("/m4hj0ng-w4ys-sc4tter-h1t4m/", slug=True).tier_a == {
        "mahjong ways",
        "scatter hitam",
    }
    glued = find_terms("slotgacor88-link", slug=True).tier_a
    assert glued == {"slot gacor", "slotgacor88"}  # glued words; the brand token sits near them


def test_obfuscated_runs() -> None:
    assert len(obfuscated_runs("𝐒𝐋𝐎𝐓 𝐆𝐀𝐂𝐎𝐑 ＭＡＸＷＩＮ ѕitus s\u200blot")) == 5
    assert obfuscated_runs("Desa Kedungbenda, Kecamatan Kemangkon — 𝐀𝐁") == []


# --- vocabulary and the anti-judol guard ---


@pytest.mark.parametrize(
    "text",
    [
        "slot pendaftaran posyandu",
        "Bapak Toto (Kaur Keuangan)",
        "lomba burung kicau murai gacor",
        "depo sampah RW 03",
        "Kecamatan Bandar",
        "Pasal 303 KUHP",
        "Dusun Sentogelan",  # "togel" inside another word
        "pola tanam padi",
    ],
)
def test_village_words_are_not_gambling(text: str) -> None:
    terms = find_terms(text)
    assert not terms.tier_a and not terms.tier_b


def test_brand_token_counts_only_near_another_term() -> None:
    assert find_terms("Warga RT 03 desa123 hadir").tier_a == frozenset()
    assert "brandx88" in find_terms("daftar BRANDX88 slot gacor").tier_a


@pytest.mark.parametrize(
    "text",
    [
        "Sosialisasi Bahaya Judi Online oleh Bhabinkamtibmas",
        "Pemerintah desa menghimbau warga menjauhi judi online",
        "Polsek Kutasari berantas judi online, dua pelaku diamankan",
        "Waspada judi online: dampak kecanduan bagi keluarga",
        "Penyuluhan pencegahan judi bola dan togel online bagi karang taruna",
    ],
)
def test_anti_judol_news_is_guarded(text: str) -> None:
    terms = find_terms(text)
    assert terms.tier_a and guarded(terms)


@pytest.mark.parametrize(
    "text",
    [
        "Link Slot Gacor Maxwin Hari Ini BRANDX88",
        "Bahaya! Slot gacor hari ini, link alternatif, bonus new member 100%",  # CTA density
        "Situs Toto 4D Resmi dan Bocoran Togel Hari Ini",
    ],
)
def test_spam_is_not_guarded(text: str) -> None:
    terms = find_terms(text)
    assert terms.tier_a and not guarded(terms)


SPAM_TITLES = [
    ("Link Slot Gacor Maxwin Hari Ini BRANDX88", "Daftar situs slot deposit dana 10rb…"),
    ("BRANDX88: Daftar Slot Deposit Pulsa Tanpa Potongan", ""),
    ("Bocoran Jam Gacor Mahjong Ways 2 Hari Ini", ""),
    ("Pola RTP dan Pertumbuhan Ekonomi Digital", "Pola RTP slot gacor malam ini untuk pemula"),
    ("Prediksi Togel Hongkong Malam Ini", "Angka jitu keluaran hk dan live draw hk"),
    ("𝐒𝐋𝐎𝐓 𝐆𝐀𝐂𝐎𝐑 𝐇𝐀𝐑𝐈 𝐈𝐍𝐈", ""),
    ("sl0t g4c0r s3rver th4iland", ""),
    ("Bocoran Pola Gacor Zeus Hari Ini", ""),  # three Tier B words
    ("Agen Judi Bola Terpercaya 2024", ""),  # a topic phrase with a sales word
]
LEGIT_TITLES = [
    ("Sosialisasi Bahaya Judi Online oleh Bhabinkamtibmas", ""),
    ("Pemerintah Desa Menghimbau Warga Menjauhi Judi Online", ""),
    ("Polsek Kutasari Berantas Judol", "Dua pelaku judi togel diamankan."),
    ("Bahaya Judi Online bagi Pelajar", "Kepala sekolah mengajak orang tua mengawasi anak."),
    ("Stop Judi Online! Karang Taruna Gelar Lomba Poster", ""),
    ("Slot Pendaftaran Posyandu Lansia Tersisa 15 Orang", ""),
    ("Lomba Burung Kicau Murai Gacor HUT Desa", ""),
    ("Bapak Toto Suharto Dilantik sebagai Kaur Keuangan", ""),
    ("Depo Sampah RW 03 Mulai Beroperasi", ""),
    ("Pengundian Arisan PKK dan Doorprize Jalan Sehat", ""),
    ("Musyawarah Desa Penyusunan RKPDes 2025", ""),
    ("Realisasi APBDes Semester I: Belanja Rp 777 Juta", ""),
    ("Judi Online Merajalela di Kalangan Remaja", ""),  # a mention, no promotion
]


@pytest.mark.parametrize(("title", "summary"), SPAM_TITLES)
def test_spam_items(title: str, summary: str) -> None:
    assert is_spam_item(title, summary)


@pytest.mark.parametrize(("title", "summary"), LEGIT_TITLES)
def test_legitimate_items(title: str, summary: str) -> None:
    assert not is_spam_item(title, summary)


def test_analyse_item() -> None:
    url = "https://desa.example.desa.id/2019/03/pola-rtp-slot-gacor-hari-ini/"
    (spam,) = analyse_item("Pertumbuhan Ekonomi Digital", "", url)  # only the slug gives it away
    assert spam.code == "injected_post" and spam.points == 60 and spam.where == f"post:{url}"
    news = analyse_item("Sosialisasi Bahaya Judi Online", "", "https://d.example.desa.id/a/1")
    assert [s.code for s in news] == ["judol_news"] and verdict(news, "x") == []
    assert analyse_item("Musyawarah Desa", "RKPDes 2025", "https://d.example.desa.id/a/2") == []
    mention = analyse_item("Judi Online Merajalela", "", "https://d.example.desa.id/a/3")
    assert [s.code for s in mention] == ["gambling_terms"] and verdict(mention, "x") == []


def _article(title: str, body: str, hidden: str = "") -> bytes:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body><main><h1>{body}</h1>"
        f'<div class="slide" style="display:none">{hidden}</div></main></body></html>'
    ).encode()


def test_an_article_about_gambling_is_not_a_head_injection() -> None:
    url, site = "https://d.example.desa.id/artikel/9", "d.example.desa.id"
    own_title = _article("Judi Online Merajalela | Desa D", "Judi Online Merajalela di Desa")
    assert [s.code for s in analyse_page(own_title, url, site_host=site)] == ["gambling_terms"]
    injected = _article("Desa D | Agen Judi Bola", "Musyawarah Desa RKPDes 2025")
    assert [s.code for s in analyse_page(injected, url, site_host=site)] == ["spam_title"]


def test_a_hidden_slide_of_own_news_is_not_a_link_block() -> None:
    url, site = "https://d.example.desa.id/", "d.example.desa.id"
    slide = '<a href="/artikel/7">Judi Online Merajalela di Kalangan Remaja</a>'
    page = _article("Desa D", "Beranda", hidden=slide)
    assert [s.code for s in analyse_page(page, url, site_host=site)] == []
    spam = _article("Desa D", "Beranda", hidden='<a href="/?p=1">slot gacor maxwin</a>')
    assert [s.code for s in analyse_page(spam, url, site_host=site)] == ["hidden_link_block"]


# --- hiding rules, hosts, links ---


@pytest.mark.parametrize(
    ("style", "hidden"),
    [
        ("display: none !important", True),
        ("position:absolute; left:-9999px", True),
        ("text-indent:-5000px", True),
        ("font-size:0", True),
        ("font-size:1px", True),
        ("height:0;overflow:hidden", True),
        ("width:1px;height:1px;overflow:hidden", True),
        ("opacity:0", True),
        ("visibility:hidden", True),
        ("clip:rect(0 0 0 0);position:absolute", True),
        ("color:#FFF;background:#ffffff", True),
        ("color:rgba(0,0,0,0)", True),
        ("font-size:9px", False),  # tiny (P3), not hidden
        ("height:0", False),  # collapsed but overflow visible
        ("color:#fff;background-color:#1e4d2b", False),
        ("position:absolute;left:-20px", False),
    ],
)
def test_hiding_reason(style: str, hidden: bool) -> None:
    assert (hiding_reason(declarations(style), "#ffffff") is not None) is hidden


def test_registrable_domain() -> None:
    assert registrable_domain("www.sukamaju.desa.id") == "sukamaju.desa.id"
    assert registrable_domain("a.b.kab.go.id") == "kab.go.id"
    assert registrable_domain("clone-desa.pages.dev") == "clone-desa.pages.dev"
    assert registrable_domain("cdn.brandx88.example") == "brandx88.example"


def test_gambling_links() -> None:
    site = "bandar.example.desa.id"
    assert gambling_link("https://brandx88.example/", "daftar", site_host=site)
    assert gambling_link("https://x.example/", "slot gacor", site_host=site)
    assert gambling_link("https://other.go.id/?p=1", "slot gacor maxwin", site_host=site)
    assert not gambling_link("https://www.komdigi.go.id/judi-online", "Komdigi", site_host=site)
    assert not gambling_link("https://bandar.example.desa.id/slot-gacor", "x", site_host=site)
    assert not gambling_link("https://radar.example/berita", "Panen raya", site_host=site)


# --- redirects, sitemaps, variants (P6, P7, P9, P11, G6, G8) ---


def test_http_redirects() -> None:
    site = "desa-sukamaju.desa.id"
    assert (
        analyse_redirect("http://desa-sukamaju.desa.id/", f"https://www.{site}/", site_host=site)
        == []
    )
    (moved,) = analyse_redirect(f"https://{site}/", "https://sukamaju.kab.go.id/", site_host=site)
    assert moved.code == "moved" and assess([moved], "x").level == "clean_with_notes"
    (hijack,) = analyse_redirect(f"https://{site}/", "https://brandx88.example/", site_host=site)
    assert (hijack.code, hijack.points) == ("offsite_redirect", 85)


def test_sitemap_fan_out_of_brand_values_alone() -> None:
    locs = "".join(
        f"<url><loc>https://desa.example.desa.id/?id=brand{c}88</loc></url>"
        for c in "abcdefghijklmnopqrstuv"
    )
    xml = f'<?xml version="1.0"?><urlset>{locs}</urlset>'.encode()
    (door,) = analyse_sitemap(
        xml, "https://desa.example.desa.id/sitemap.xml", site_host="desa.example.desa.id"
    )
    assert door.code == "doorway_sitemap" and "/?id=" in door.evidence
    numbered = xml.replace(b"brand", b"").replace(b"88<", b"<")
    assert (
        analyse_sitemap(
            numbered, "https://d.example.desa.id/s.xml", site_host="desa.example.desa.id"
        )
        == []
    )


def test_referer_redirect_to_another_site_is_cloaking() -> None:
    page = (FIXTURES / "p08_cloak_ua.browser.html").read_bytes()
    landing = (FIXTURES / "p05_hijacked_home.html").read_bytes()
    url = "https://penaruban.example.desa.id/"
    finals = (url, url, "https://promo-brandx88.example/redir")
    signals = compare_views(
        page, page, landing, url, site_host="penaruban.example.desa.id", final_urls=finals
    )
    assert [(s.code, s.points) for s in signals] == [("cloaking_referer", 85)]  # T5: D4 (85)
    assert assess(signals, url).level == "compromised"


def test_blocked_browser_is_inconclusive() -> None:
    block = (FIXTURES / "g6_waf_crawler.crawler.html").read_bytes()
    url = "https://penaruban.example.desa.id/"
    signals = compare_views(
        block, block, block, url, site_host="penaruban.example.desa.id", statuses=(403, 403, 403)
    )
    assert {s.where for s in signals} == {"variant:browser", "variant:crawler", "variant:search"}
    assert assess(signals, url).level == "inconclusive"


# --- scoring (G10) ---


def test_a_keyword_alone_is_never_a_compromise() -> None:
    alone = [Signal("gambling_terms", 10, "visible text: judi online", "home")]
    assert verdict(alone, "https://d.example/") == []
    lexical = [Signal("lexical_spam", 40, "visible text: a, b, c, d", "home")]
    assert [f.level for f in verdict(lexical, "https://d.example/")] == ["suspicious"]
    fancy = [Signal("fancy_unicode", 20, "runs", "home"), Signal("fancy_unicode", 20, "r", "x")]
    same_family = [*lexical, *fancy]
    assert assess(same_family, "x").level == "suspicious"  # G10: one family is not enough


def test_site_score() -> None:
    posts = [Signal("injected_post", 60, "t", f"post:{n}") for n in range(15)]
    assert site_score(posts) == 60 + 30  # +3 per extra post, capped at +30
    pages = [Signal("spam_title", 60, "t", f"page:{n}") for n in range(5)]
    assert site_score(pages) == 60 + 30  # + 10 per other page with a decisive signal, cap 30
    assessment = assess(pages, "x")
    assert assessment.confidence == "high" and assessment.level == "compromised"


def test_hostile_input_does_not_crash() -> None:
    nested = b"<html><body>" + b"<div>" * 3000 + b"slot gacor" + b"</div>" * 3000
    signals = analyse_page(nested, "https://d.example/", site_host="d.example")
    assert [s.code for s in signals] == ["gambling_terms"]  # two words alone: a note
    assert analyse_page(b"", "https://d.example/", site_host="d.example") == []
    assert (
        analyse_page(bytes(range(256)) * 4, "https://d.example/", site_host="d.example") is not None
    )
    assert (
        analyse_sitemap(b"\x00\xff<urlset><loc>", "https://d.example/s", site_host="d.example") != 0
    )


def test_the_cheap_precheck_never_hides_a_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_scan` skips text whose tokens cannot start a hit; with the precheck off, every
    vocabulary term (in prose, squeezed, brand-shaped) gives the same hits."""
    from aggregator.integrity import match
    from aggregator.integrity import vocabulary as vocab
    from aggregator.integrity.normalise import fold

    prose = "Pemerintah Desa Karangreja melaksanakan musyawarah desa bersama BPD dan PKK."
    texts = [prose, "Info slooot gacooor hari ini", "daftar di hokijitu88 sekarang"]
    texts += [f"{prose} {term} {prose}" for term in (*vocab.TIER_A, *vocab.TIER_B)]
    folded = [fold(t) for t in texts]
    with_check = [match._scan(t) for t in folded]
    assert not match._may_hit(folded[0]) and with_check[0] == []
    assert all(with_check[1:])
    monkeypatch.setattr(match, "_may_hit", lambda text: True)
    assert [match._scan(t) for t in folded] == with_check


def test_the_slug_precheck_never_hides_a_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    """`find_terms(slug=True)` skips a slug whose two readings (folded, leet) cannot start a
    hit and hold no glued term; with both pre-checks off, random slugs, paths and hosts built
    from the vocabulary (glued, leet digits, url separators, brand suffixes) give the same
    hits."""
    import random
    import re

    from aggregator.integrity import match
    from aggregator.integrity import vocabulary as vocab

    words = [w for t in (*vocab.TIER_A, *vocab.TIER_B, *vocab.BENIGN) for w in t.split()]
    glued = [t.replace(" ", "") for t in vocab.TIER_A]
    leets = [w.replace("o", "0").replace("a", "4").replace("i", "1") for w in words[:40]]
    plain = ["index.php", "artikel", "2026", "12", "berita-desa", "kegiatan", "88", "4d", "id"]
    pieces = [*words, *glued, *leets, *plain, *vocab.TIER_B_IN_WORDS]
    rnd = random.Random(11)
    texts = []
    for _ in range(8_000):
        parts = [rnd.choice(pieces) for _ in range(rnd.randint(1, 6))]
        texts.append(rnd.choice(["/", "-", "_", ".", " ", ""]).join(parts))
    gated = [match.find_terms(t, slug=True).hits for t in texts]
    assert sum(1 for h in gated if h) > 2_000 and sum(1 for h in gated if not h) > 500
    monkeypatch.setattr(match, "_may_hit", lambda text: True)
    monkeypatch.setattr(match, "_GLUED_ANY", re.compile(""))
    assert [match.find_terms(t, slug=True).hits for t in texts] == gated


def test_the_sitemap_precheck_never_hides_a_doorway(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sitemap whose urls together cannot hold a slug term skips matching them one by one;
    over random sitemaps of article urls with a few vocabulary-built urls (paths, glued and
    leet slugs, query values) among them, the signals are the same with the pre-check off."""
    import random

    from aggregator.integrity import sitemap
    from aggregator.integrity import vocabulary as vocab
    from aggregator.integrity.normalise import url_words

    words = [w for t in (*vocab.TIER_A, *vocab.TIER_B, *vocab.BENIGN) for w in t.split()]
    words += [t.replace(" ", "") for t in vocab.TIER_A] + ["88", "4d", "g4c0r", "sl0t"]
    rnd = random.Random(5)

    def loc(n: int, share: float) -> str:
        if rnd.random() >= share:
            return f"https://desa.example/index.php/artikel/2026/1/{n}/kegiatan-desa-ke-{n}"
        slug = rnd.choice("-_/").join(rnd.choice(words) for _ in range(rnd.randint(1, 3)))
        if rnd.random() < 0.3:
            return f"https://desa.example/?page={slug}"
        return f"https://desa.example/{slug}"

    docs, skipped = [], 0
    for _ in range(400):
        share = rnd.choice((0.0, 0.05, 0.5))
        locs = [loc(n, share) for n in range(rnd.randint(1, 15))]
        docs.append(("<urlset>" + "".join(f"<url><loc>{u}</loc></url>" for u in locs)).encode())
        skipped += not sitemap.may_have_slug_terms(" ".join(map(url_words, locs)))
    url, host = "https://desa.example/sitemap.xml", "desa.example"
    gated = [sitemap.analyse_sitemap(d, url, site_host=host) for d in docs]
    assert sum(1 for g in gated if g) > 20 and skipped > 100  # both branches taken
    monkeypatch.setattr(sitemap, "may_have_slug_terms", lambda text: True)
    assert [sitemap.analyse_sitemap(d, url, site_host=host) for d in docs] == gated


def test_the_cheap_prechecks_never_miss_what_the_full_matching_finds() -> None:
    """`may_have_terms` (the spam and post-body fast paths) is False only where `find_terms`
    finds nothing, and the brand pre-check agrees with BRAND_TOKEN, over random text built
    from the vocabulary's own words, leet digits, brand suffixes and look-alike letters."""
    import random

    from aggregator.integrity import vocabulary as vocab
    from aggregator.integrity.match import _BRAND_END, find_terms, may_have_terms

    words = [w for t in (*vocab.TIER_A, *vocab.TIER_B, *vocab.BENIGN) for w in t.split()]
    pieces = [*words, "jam", "09.00", "desa", "88", "4d", "sl0t", "gaacor", "ѕlot", "𝐬𝐥𝐨𝐭", " "]
    rnd = random.Random(7)
    found = 0
    for _ in range(20_000):
        text = " ".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 5)))
        text = text if rnd.random() < 0.7 else text.replace(" ", rnd.choice(["", "-", "\u200b"]))
        if find_terms(text).hits:
            found += 1
            assert may_have_terms(text), text
        low = text.lower()
        assert (vocab.BRAND_TOKEN.search(low) is None) == (_BRAND_END.search(low) is None), text
    assert found > 5_000  # the corpus does reach the vocabulary
    assert not may_have_terms("Rapat dimulai jam 09.00 di balai desa, dihadiri 40 warga.")


def test_folding_plain_typography_skips_unicode_steps_with_the_same_result() -> None:
    """A text whose only non-ASCII characters are an ellipsis, a no-break space, quotes,
    dashes or bullets skips NFKC and the rest: random texts mixing those with ASCII and
    with characters that need the steps (accents, a combining mark, a Cyrillic look-alike,
    a zero-width space, full-width letters) fold exactly as through the Unicode steps."""
    import random

    from aggregator.integrity import normalise

    def reference(text: str) -> str:
        if not text.isascii():
            text = normalise._unicode_fold(text)
        text = text.lower()
        return normalise._SANDWICHED.sub(lambda m: m.group(0).translate(normalise._LEET), text)

    rnd = random.Random(9)
    plain = "abcSLOTgacor0134@$ .,-\u2026\u00a0\u2018\u2019\u201c\u201d\u2013\u2014\u2022\u00b7"
    needy = "\u00e9e\u0301\u0430\u200b\uff33\u2126\u2024"
    texts = ["Info\u00a0kegiatan \u201cdesa\u201d \u2013 jumat \u2026", "sl\u20260t g4cor\u2026"]
    for _ in range(3000):
        alphabet = plain + (needy if rnd.random() < 0.3 else "")
        texts.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30))))
    skipped = 0
    for text in texts:
        assert normalise.fold_letters(text) == reference(text), repr(text)
        quick = normalise._as_nfkc(text)
        skipped += not text.isascii() and normalise._NEEDS_UNICODE.search(quick) is None
    assert skipped > 1000  # the fast path was taken, not only the Unicode steps
