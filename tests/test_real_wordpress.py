"""Sipande against a real WordPress 6.1 (Debian's package, MariaDB, PHP's built-in server on
loopback; see tests/realsites/wordpress.py): news and their titles, dedupe on a second poll,
platform and version, a hidden gambling-link block in an older post's body (not on the home
page, not among the two newest) found within the first poll with that post as evidence, and
no finding for a real news post about fighting judi online.

Without PHP, the package or MariaDB this skips, unless SIPANDE_REQUIRE_WORDPRESS=1 (CI, set
by .ci/run), where it fails.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aggregator.cli import poll_once
from aggregator.integrity.postcheck import POST_KIND
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.web import create_app
from tests.conftest import LiveServer
from tests.realsites.wordpress import Post, RunningWordPress, WordPressSite, unavailable

pytestmark = pytest.mark.realsite

CODE = "33.03.99.2001"
HOSTILE_TITLE = "Kerja Bakti Normalisasi Saluran Irigasi Dusun II"
ANTIJUDOL_TITLE = "Sosialisasi Bahaya Judi Online bagi Pelajar dan Orang Tua"
GAMBLING_HOSTS = ("slotgacor-maxwin88.example", "situs-toto4d.example", "rtp-live-hariini.example")

HIDDEN_BLOCK = (
    '<div style="display:none">'
    f'<a href="https://{GAMBLING_HOSTS[0]}/">slot gacor maxwin</a> '
    f'<a href="https://{GAMBLING_HOSTS[1]}/">situs toto 4d terpercaya</a> '
    f'<a href="https://{GAMBLING_HOSTS[2]}/">rtp live hari ini</a> '
    f'<a href="https://{GAMBLING_HOSTS[0]}/daftar">daftar slot deposit pulsa</a>'
    "</div>"
)

# Newest first. The home page shows posts_per_page = 2, so the hostile post (fifth) is on it
# neither as a listed post nor among the two item pages the integrity watch fetches.
POSTS = (
    Post(
        ANTIJUDOL_TITLE,
        "<p><strong>KARANGSARI</strong> – Bhabinkamtibmas Polsek Kemangkon bersama Babinsa "
        "menggelar sosialisasi bahaya judi online bagi pelajar dan orang tua di balai desa.</p>"
        "\n<p>Petugas menjelaskan dampak kecanduan judi online, termasuk permainan slot dan "
        "togel yang marak ditawarkan melalui media sosial. Pelaku perjudian dapat dijerat "
        "Pasal 303 KUHP.</p>\n<p>Warga diimbau menjauhi segala bentuk perjudian dan melaporkan "
        'ajakan judi online melalui <a href="https://aduankonten.id/">aduankonten.id</a>.</p>',
        "Kegiatan",
        1.2,
    ),
    Post(
        "Musyawarah Desa Penetapan RKP Desa Tahun 2027",
        "<p>Pemerintah Desa Karangsari menggelar musyawarah desa untuk menetapkan Rencana Kerja "
        "Pemerintah Desa tahun 2027 bersama BPD, LPMD dan tokoh masyarakat.</p>",
        "Berita Desa",
        3.0,
    ),
    Post(
        "Posyandu Balita Bulan Desember",
        "<p>Kader posyandu melayani penimbangan dan imunisasi 64 balita di empat pos.</p>",
        "Kesehatan",
        6.0,
    ),
    Post(
        "Penyaluran BLT Dana Desa Tahap IV",
        "<p>Sebanyak 38 keluarga penerima manfaat menerima BLT Dana Desa tahap IV di kantor "
        "desa.</p>",
        "Berita Desa",
        9.0,
    ),
    Post(
        HOSTILE_TITLE,
        # Longer than WordPress's 55-word automatic excerpt, as real posts are: the block
        # appended at the end is in the body only, not in the excerpt.
        "<p>Warga Dusun II bergotong royong membersihkan saluran irigasi sepanjang 800 meter "
        "agar air sampai ke sawah saat musim tanam. Kegiatan dimulai pukul tujuh pagi dan "
        "diikuti sekitar seratus warga dari lima RT, didampingi perangkat desa dan anggota "
        "BPD.</p>\n<p>Kepala Desa menyampaikan terima kasih atas partisipasi warga. Lumpur dan "
        "sampah plastik yang menyumbat saluran diangkut ke tempat pembuangan sementara, dan "
        "tanggul yang longsor diperkuat dengan karung pasir. Kerja bakti serupa akan digelar "
        "setiap bulan menjelang musim tanam berikutnya.</p>\n" + HIDDEN_BLOCK,
        "Kegiatan",
        14.0,
    ),
    Post(
        "Pelatihan Pengolahan Gula Kelapa Kristal",
        "<p>Dua puluh lima penderes mengikuti pelatihan pengolahan gula kelapa kristal.</p>",
        "Ekonomi",
        20.0,
    ),
    Post(
        "Pembangunan Jalan Usaha Tani RT 03",
        "<p>Jalan usaha tani sepanjang 250 meter dibangun dari Dana Desa tahun ini.</p>",
        "Pembangunan",
        27.0,
    ),
    Post(
        "Lomba Kebersihan Antar-RT Meriahkan Hari Jadi Desa",
        "<p>Sepuluh RT mengikuti lomba kebersihan lingkungan dalam rangka hari jadi desa.</p>",
        "Kegiatan",
        35.0,
    ),
)


def _unavailable(reason: str) -> None:
    if os.environ.get("SIPANDE_REQUIRE_WORDPRESS") == "1":
        pytest.fail(f"SIPANDE_REQUIRE_WORDPRESS=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (set SIPANDE_REQUIRE_WORDPRESS=1 to make this a failure)")


@pytest.fixture(scope="module")
def wordpress(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[WordPressSite, RunningWordPress]]:
    if reason := unavailable():
        _unavailable(reason)
    site = WordPressSite(tmp_path_factory.mktemp("wordpress"), POSTS)
    with site as running:
        yield site, running


def _config(url: str) -> str:
    return f"""kabupaten: {{code: "33.03", name: Purbalingga}}
settings:
  allow_private_addresses: true
  request_timeout: 10s
kecamatan:
  - code: "33.03.99"
    name: Uji
    villages:
      - {{code: "{CODE}", name: "Karangsari", type: desa, url: "{url}", platform: auto}}
"""


def _poll(config: Any, store: Store) -> int:
    return asyncio.run(poll_once(config, store))


def _api(store: Store, *paths: tuple[str, dict[str, str]]) -> list[Any]:
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        return [httpx.get(f"{srv.url}{path}", params=params).json() for path, params in paths]


def test_real_wordpress_end_to_end(
    wordpress: tuple[WordPressSite, RunningWordPress], tmp_path: Path
) -> None:
    site, wp = wordpress
    assert wp.version.startswith("6.1.")
    home = httpx.get(wp.url, timeout=10).text
    hostile_url = wp.posts[HOSTILE_TITLE]
    antijudol_url = wp.posts[ANTIJUDOL_TITLE]
    # The setup the acceptance asks for: the hostile post is not on the home page.
    assert hostile_url not in home and GAMBLING_HOSTS[0] not in home
    assert antijudol_url in home

    config = parse_config(_config(wp.url), "real-wordpress.yaml")
    store = Store(f"sqlite:///{tmp_path}/real-wp.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    try:
        assert _poll(config, store) == 0
        village, news, findings = _api(
            store,
            (f"/api/villages/{CODE}", {}),
            ("/api/news", {"village": CODE}),
            ("/api/findings", {"status": "open"}),
        )
        assert village["platform"] == "wordpress"
        assert village["platform_version"].startswith("6.1."), village["platform_version"]
        assert village["news_count"] == len(POSTS)
        assert sorted(n["title"] for n in news) == sorted(p.title for p in POSTS)
        assert {n["url"] for n in news} == set(wp.posts.values())

        # Within the first poll: the older post's hidden block, with that post as evidence.
        post_findings = [f for f in findings if f["kind"] == POST_KIND]
        assert len(post_findings) == 1, findings
        found = post_findings[0]
        assert found["village_code"] == CODE and found["url"] == hostile_url
        assert "hidden_link_block" in found["evidence"]
        assert GAMBLING_HOSTS[0] in found["evidence"]
        # Nothing about the anti-judol post, and the home page scan found nothing.
        assert all(antijudol_url not in f["url"] + f["evidence"] for f in findings)
        assert [f["kind"] for f in findings] == [POST_KIND], findings
        assert village["status"] == "compromised"

        # Second poll: no duplicates; the finding stays open (the post is unchanged).
        assert _poll(config, store) == 0
        village, news, findings = _api(
            store,
            (f"/api/villages/{CODE}", {}),
            ("/api/news", {"village": CODE}),
            ("/api/findings", {"status": "open"}),
        )
        assert village["news_count"] == len(POSTS) == len(news)
        assert [(f["kind"], f["url"]) for f in findings] == [(POST_KIND, hostile_url)]

        # The village removes the block: the edited post comes back in the REST API's most
        # recently modified posts, clean, and the finding is resolved by that look at it.
        site.run_php(
            "$p = get_page_by_path(" + repr(hostile_url.rstrip("/").rsplit("/", 1)[1]) + ","
            " OBJECT, 'post'); kses_remove_filters();"
            " wp_update_post(['ID' => $p->ID, 'post_content' =>"
            " preg_replace('~<div style=\"display:none\">.*</div>~s', '', $p->post_content)]);"
        )
        assert GAMBLING_HOSTS[0] not in httpx.get(hostile_url, timeout=10).text
        assert _poll(config, store) == 0
        village, findings = _api(
            store, (f"/api/villages/{CODE}", {}), ("/api/findings", {"status": "open"})
        )
        assert findings == [] and village["status"] != "compromised"
        assert village["news_count"] == len(POSTS)
    finally:
        store.close()
