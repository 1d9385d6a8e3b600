"""Rows of OpenSID's `artikel` table that are not news, as a real site has them: a disabled
draft and a static page ("Sejarah Desa"). The sitemap lists both with the same dated url form
as news; the feed, the archive and the article lists leave the draft out; the draft's url
answers 200 with a soft-404 body; the static page renders like an article without category
and the top menu links it (as recorded from real OpenSID 2310-2410).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from .content import slugify, village_rng
from .model import Article, SimVillage

NOT_FOUND_NATRA = (
    '<div class="artikel" id="artikel-blank">\n<div class="error-page">\n'
    "<h3>Halaman ini belum tersedia atau sedang dalam perbaikan</h3>\n"
    "<p>Silakan kembali lagi ke halaman Beranda.</p>\n</div>\n</div>"
)
NOT_FOUND_ESENSI = (
    '<div class="text-center py-10">\n<h2 class="text-h3">UPS! HALAMAN TIDAK DITEMUKAN</h2>\n'
    "<p>Halaman yang Anda cari tidak tersedia.</p>\n</div>"
)


def unlisted_rows(
    village: SimVillage, seed: int, now: datetime, first_id: int
) -> tuple[Article, Article]:
    """(the disabled draft, the static page) of one village, fixed for a seed."""
    rng = village_rng(seed, village.code, "unlisted")
    draft_title = f"Rencana Pembangunan Jalan Usaha Tani {village.name} (draf)"
    draft = Article(
        first_id,
        draft_title,
        slugify(draft_title),
        now - timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8)),
        "Berita Desa",
        "<p>Draf, belum diterbitkan.</p>",
        "draf.jpg",
    )
    static_title = "Sejarah Desa"
    static = Article(
        first_id + 1,
        static_title,
        slugify(static_title),
        now - timedelta(days=rng.randint(400, 900)),
        "",
        f"<p>{escape(village.sebutan)} {escape(village.name)} berdiri sejak masa Kadipaten "
        "Purbalingga.</p>",
        "sejarah.jpg",
    )
    return draft, static
