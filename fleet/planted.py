"""Articles a behaviour plants among a site's real news: judi-online spam posts (P4), clean
lookalikes that must not be flagged (news about fighting judi online, ambiguous words), and
hostile markup. Deterministic given the village, the ids in use and the fleet's `now`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from .content import slugify, unique_slug
from .model import Article, SimVillage

# (title, body, category, hours before `now`); {placeholders} are filled per village.
Plant = tuple[str, str, str, float]

SPAM_POSTS: tuple[Plant, ...] = (
    (
        "SLOT GACOR MAXWIN Hari Ini: Link Situs BRANDX88 Gampang Menang",
        '<p>Daftar sekarang di <a href="https://brandx88.example/">BRANDX88</a>, situs slot '
        "gacor maxwin hari ini dengan rtp live tertinggi. Bonus new member 100%, deposit pulsa "
        "tanpa potongan, min depo 10rb.</p>\n"
        '<p><a href="https://daftar-brandx88.example/">DAFTAR</a> | '
        '<a href="https://login-brandx88.example/">LOGIN</a></p>',
        "Berita Desa",
        5.0,
    ),
    (
        "Link Slot Gacor Maxwin Hari Ini BRANDX88",
        "<p>Bocoran pola slot dan jam gacor hari ini: mahjong ways, gates of olympus, "
        "starlight princess. Link alternatif "
        '<a href="https://brandx88-alternatif.example/">brandx88-alternatif.example</a> '
        "anti rungkad, wd cepat.</p>",
        "Berita Desa",
        31.0,
    ),
    (
        "Situs Toto 4D Terpercaya: Prediksi Togel Hari Ini dan Live Draw SGP",
        "<p>Prediksi togel hari ini, angka jitu dan colok bebas toto macau. Daftar di "
        '<a href="https://toto-macau.example/">situs toto 4d</a> resmi, bonus new member.</p>',
        "Berita Desa",
        68.0,
    ),
)

# An older village post (four months back: past the home page, the newest items and a
# WordPress feed's ten) whose body carries a hidden link block (P1) after its real text.
POST_BODY_HOURS = 120 * 24.0
POST_BODY: tuple[Plant, ...] = (
    (
        "Kerja Bakti Perbaikan Talud Saluran Irigasi",
        "<p><strong>{DESA}</strong> – Warga RT 02 dan RT 03 bergotong royong memperbaiki talud "
        "saluran irigasi yang longsor akibat hujan deras, agar air kembali mengalir ke sawah "
        "menjelang musim tanam.</p>\n"
        "<p>Material batu dan semen berasal dari swadaya warga dan Dana Desa. Kepala "
        "{sebutan_kecil} menyampaikan terima kasih atas partisipasi warga.</p>\n"
        '<div style="display:none">\n'
        '<a href="https://brandx88.example/">slot gacor</a>\n'
        '<a href="https://brandy-toto.example/">situs toto 4d</a>\n'
        '<a href="https://rtp-live.example/">rtp live hari ini</a>\n'
        '<a href="https://slot-pulsa.example/">slot deposit pulsa tanpa potongan</a>\n'
        "</div>",
        "Pembangunan",
        POST_BODY_HOURS,
    ),
)

ANTIJUDOL: tuple[Plant, ...] = (
    (
        "Sosialisasi Bahaya Judi Online bagi Pelajar",
        "<p><strong>{DESA}</strong> – Bhabinkamtibmas Polsek {kecamatan} bersama Babinsa "
        "menggelar sosialisasi bahaya judi online bagi pelajar di balai {sebutan_kecil}.</p>\n"
        "<p>Petugas menjelaskan dampak kecanduan judi online, termasuk permainan slot dan togel "
        "yang marak ditawarkan melalui media sosial. Pelaku perjudian dapat dijerat Pasal 303 "
        "KUHP.</p>\n"
        "<p>Para pelajar diimbau menjauhi segala bentuk perjudian dan melaporkan ajakan judi "
        "online kepada guru, orang tua, atau polisi.</p>",
        "Kegiatan",
        20.0,
    ),
    (
        "Polsek {kecamatan} Berantas Judol, Warga Diimbau Melapor",
        "<p><strong>{DESA}</strong> – Kapolsek {kecamatan} menyampaikan bahwa jajarannya terus "
        "berantas judol (judi online) di wilayah hukumnya. Dalam razia pekan lalu dua tersangka "
        "diamankan beserta barang bukti.</p>\n"
        "<p>Warga yang mengetahui praktik perjudian diminta segera melapor kepada Bhabinkamtibmas "
        'atau melalui <a href="https://www.komdigi.go.id/">Komdigi</a>.</p>',
        "Berita Desa",
        50.0,
    ),
)

AMBIGUOUS: tuple[Plant, ...] = (
    (
        "Slot Pendaftaran Posyandu Balita Dibuka Kembali",
        "<p><strong>{DESA}</strong> – Kader posyandu mengumumkan bahwa slot pendaftaran posyandu "
        "balita bulan ini kembali dibuka.</p>\n"
        "<p>Pendaftaran dicatat oleh Bapak Toto (Kaur Keuangan) di kantor {sebutan_kecil}.</p>",
        "Kesehatan",
        14.0,
    ),
    (
        "Lomba Burung Kicau: Murai Gacor Milik Warga Juara Umum",
        "<p><strong>{DESA}</strong> – Lomba burung kicau di lapangan {sebutan_kecil} diikuti "
        "peserta dari seluruh Kecamatan {kecamatan}.</p>\n"
        "<p>Juara umum diraih seekor murai gacor milik warga setempat.</p>",
        "Kegiatan",
        40.0,
    ),
    (
        "Kerja Bakti Bersihkan Depo Sampah RW 03",
        "<p><strong>{DESA}</strong> – Warga bergotong royong membersihkan depo sampah RW 03 "
        "pada Minggu pagi.</p>\n<p>Kegiatan ini rutin dilaksanakan setiap bulan.</p>",
        "Lingkungan",
        75.0,
    ),
)

HOSTILE: tuple[Plant, ...] = (
    (
        '<script>alert("judul")</script>Pengumuman Jadwal Posyandu',
        "<p>&lt;script&gt;alert('ringkasan')&lt;/script&gt; Info "
        '<a href="javascript:alert(document.cookie)">selengkapnya</a>.</p>\n'
        "<script>alert('isi')</script>\n"
        '<p><img src="x" onerror="alert(\'isi\')"><svg onload="alert(1)"></svg></p>',
        "Pengumuman",
        2.0,
    ),
    (
        '<img src=x onerror="alert(1)">Rapat Koordinasi RT',
        '<p>Rapat <a href="JaVaScRiPt:alert(2)">koordinasi</a> di balai.</p>\n'
        '<iframe src="javascript:alert(3)"></iframe>',
        "Pengumuman",
        9.0,
    ),
    ('=HYPERLINK("https://evil.example/","Klik di sini")', "<p>Lihat tautan.</p>", "Info", 20),
    ("+cmd|' /C calc'!A0", "<p>Laporan kegiatan.</p>", "Info", 30.0),
    ("-2+3+cmd|' /C calc'!A0", "<p>Laporan keuangan.</p>", "Info", 44.0),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "<p>Rekap bantuan.</p>", "Info", 60.0),
)

BY_BEHAVIOUR: dict[str, tuple[Plant, ...]] = {
    "judol_injected_posts": SPAM_POSTS,
    "judol_post_body": POST_BODY,
    "clean_antijudol": ANTIJUDOL,
    "clean_ambiguous": AMBIGUOUS,
    "hostile_markup": HOSTILE,
}


def _fill(text: str, village: SimVillage) -> str:
    return (
        text.replace("{DESA}", village.name.upper())
        .replace("{kecamatan}", village.kecamatan_name)
        .replace("{sebutan_kecil}", village.sebutan.lower())
    )


def planted_articles(
    village: SimVillage, behaviour: str, now: datetime, first: int, taken: Iterable[str]
) -> list[Article]:
    """The articles `behaviour` adds to the village's news, ids from `first` on, slugs unlike
    those `taken`; none for most behaviours."""
    plants = BY_BEHAVIOUR.get(behaviour, ())
    seen = set(taken)
    out = []
    for offset, (title, body, category, hours) in enumerate(plants):
        title = _fill(title, village)
        slug = unique_slug(slugify(title), seen)
        when = (now - timedelta(hours=hours)).replace(microsecond=0)
        image = f"sedang_{first + offset}_{slug[:24].rstrip('-')}.jpg"
        out.append(
            Article(first + offset, title, slug, when, category, _fill(body, village), image)
        )
    return out
