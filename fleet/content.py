"""Deterministic generation of each simulated village's article history (Bahasa Indonesia).

Given a village, a seed and `now`, `generate_articles` always returns the same articles.
"""

from __future__ import annotations

import functools
import html
import random
import re
import unicodedata
import zlib
from datetime import datetime, timedelta

from . import corpus
from .model import WIB, Article, SimVillage

_DAY = 86400.0


def slugify(text: str) -> str:
    """Lowercase ascii words joined by '-' ("Musdes RKPDes 2025" -> "musdes-rkpdes-2025")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words) or "artikel"


def tanggal(moment: datetime) -> str:
    """Indonesian long date in WIB, e.g. "5 September 2026"."""
    local = moment.astimezone(WIB)
    return f"{local.day} {corpus.MONTHS[local.month - 1]} {local.year}"


def village_rng(seed: int, code: str, purpose: str) -> random.Random:
    """A random generator that depends only on the seed, the village code and a purpose label."""
    return random.Random(f"{seed}:{code}:{purpose}")


def category_id(name: str) -> int:
    """A stable category id (OpenSID kategori id, WordPress term id; 1 is "Uncategorized")."""
    if name in corpus.CATEGORIES:
        return corpus.CATEGORIES.index(name) + 2
    return 100 + zlib.crc32(name.encode()) % 900


def content_profile(behaviour: str) -> str:
    """Which article history a behaviour implies; serving behaviours get an active history."""
    return behaviour if behaviour in ("quiet", "abandoned", "never_posted") else "active"


def _office_hours(moment: datetime, rng: random.Random, now: datetime) -> datetime:
    local = moment.astimezone(WIB).replace(second=0, microsecond=0)
    if not 7 <= local.hour <= 21:
        local = local.replace(hour=rng.randint(8, 16))
        if local > now:
            local -= timedelta(days=1)
    return local


# A lived-in district: a site's archive goes back 6 to 12 months (HISTORY_DAYS), and some
# sites had a lull of weeks some months ago (LULL_SHARE of active and quiet ones).
HISTORY_DAYS = (180.0, 365.0)
LULL_SHARE = 0.4
LULL_DAYS = (35.0, 75.0)


def _history_shape(
    profile: str, seed: int, code: str, history_days: float | None
) -> tuple[float, tuple[float, float] | None]:
    """How far back (in days before `now`) a site's archive goes, and its lull if any (a
    span of days before `now` without posts). Drawn apart from the articles' own random
    sequence, so the newest articles are the same whatever the shape."""
    rng = village_rng(seed, code, "history")
    span = history_days if history_days is not None else rng.uniform(*HISTORY_DAYS)
    if profile not in ("active", "quiet") or rng.random() >= LULL_SHARE:
        return span, None
    start = rng.uniform(90.0 if profile == "quiet" else 45.0, max(100.0, span - 80.0))
    return span, (start, start + rng.uniform(*LULL_DAYS))


def _publication_times(
    profile: str,
    rng: random.Random,
    now: datetime,
    shape: tuple[float, tuple[float, float] | None] = (240.0, None),
) -> list[datetime]:
    """Publication instants (WIB, newest first) for one history profile; `shape` is the
    archive's span and lull (_history_shape) of a site that posts."""
    if profile == "never_posted":
        return []
    span, lull = shape
    if profile == "abandoned":
        newest = now - timedelta(days=rng.uniform(120, 400))
        count, gaps, span, lag = rng.randint(4, 12), (5.0, 40.0), 1e9, 0.0
    else:
        lag = rng.uniform(0.05, 3.0) if profile == "active" else rng.uniform(40, 80)
        newest = now - timedelta(days=lag)
        count, gaps, span = 10**6, (1.0, 6.0), span - lag
    times: list[datetime] = []
    offset = 0.0
    while len(times) < count and offset <= span:
        when = _office_hours(newest - timedelta(days=offset), rng, now)
        if lull is None or not lull[0] <= lag + offset <= lull[1]:
            times.append(when)
        offset += rng.uniform(*gaps)
    return times


@functools.lru_cache(maxsize=1024)
def _people(code: str) -> tuple[str, str]:
    """The village head's placeholder name and BUMDes suffix (seeding a Random per article is
    what made generating a large fleet slow)."""
    per_village = village_rng(0, code, "people")
    return per_village.choice(corpus.PERSONS), per_village.choice(corpus.BUMDES_SUFFIX)


def _fill(village: SimVillage, rng: random.Random, when: datetime) -> dict[str, str]:
    local = when.astimezone(WIB)
    event = local - timedelta(days=rng.choice((0, 0, 1, 1, 2)))
    kades, bumdes = _people(village.code)
    return {
        "desa": village.name,
        "sebutan": village.sebutan,
        "sebutan_kecil": village.sebutan.lower(),
        "kecamatan": village.kecamatan_name,
        "kades": "Lurah" if village.type == "kelurahan" else "Kepala Desa",
        "nama_kades": kades,
        "bumdes": f"{village.name} {bumdes}",
        "nama_warga": rng.choice(corpus.PERSONS),
        "dusun": rng.choice(corpus.DUSUN),
        "rt": f"{rng.randint(1, 12):02d}",
        "rw": f"{rng.randint(1, 6):02d}",
        "tahun": str(local.year),
        "tahun_depan": str(local.year + 1),
        "tahun_lalu": str(local.year - 1),
        "bulan": corpus.MONTHS[local.month - 1],
        "tahap": ("I", "II", "III", "IV")[(local.month - 1) // 3],
        "posyandu": rng.choice(corpus.POSYANDU),
        "kelompok": rng.choice(corpus.KELOMPOK),
        "libur": rng.choice(corpus.HOLIDAYS),
        "panjang": str(rng.randrange(50, 400, 10)),
        "lebar": rng.choice(("2", "2,5", "3", "3,5")),
        "hut": str(local.year - 1945),
        "jumlah": str(rng.randint(18, 160)),
        "biaya": "Rp" + f"{rng.randrange(15, 250) * 500_000:,}".replace(",", "."),
        "hari": corpus.DAYS[event.weekday()],
        "tgl": f"{event.day}/{event.month}/{event.year}",
    }


def _pick_topic(rng: random.Random, month: int) -> corpus.Topic:
    while True:
        topic = rng.choice(corpus.TOPICS)
        if topic.key != "hut_ri" or month == 8:
            return topic


def _body(topic: corpus.Topic, rng: random.Random, fill: dict[str, str]) -> str:
    paragraphs = [rng.choice(topic.openings)]
    paragraphs += rng.sample(topic.details, k=min(len(topic.details), rng.randint(1, 2)))
    paragraphs += rng.sample(corpus.GENERIC, k=rng.randint(0, 2))
    paragraphs.append(rng.choice(corpus.CLOSINGS))
    texts = [p.format_map(fill) for p in paragraphs]
    texts[0] = f"<strong>{fill['desa'].upper()}</strong> – {texts[0]}"
    return "\n".join(f"<p>{text}</p>" for text in texts)


def generate_articles(
    village: SimVillage,
    *,
    seed: int,
    now: datetime,
    hostile: bool = False,
    tricky: bool = False,
    history_days: float | None = None,
) -> list[Article]:
    """The village's article history, newest first, for its behaviour's content profile.

    A site that posts has an archive of `history_days` (by default 6 to 12 months, drawn per
    village), sometimes with a lull of weeks in it (`_history_shape`).

    `tricky` makes the newest title contain `&` and quotes; `hostile` makes the second newest
    body carry a `<script>` and an `<img onerror>` (both are legal content a site may serve).
    """
    rng = village_rng(seed, village.code, "articles")
    profile = content_profile(village.behaviour)
    shape = _history_shape(profile, seed, village.code, history_days)
    times = sorted(_publication_times(profile, rng, now, shape), reverse=True)
    next_id = rng.randint(12, 400) + 2 * len(times)
    articles: list[Article] = []
    seen: set[str] = set()
    for index, when in enumerate(times):
        fill = _fill(village, rng, when)
        topic = _pick_topic(rng, when.month)
        title = rng.choice(topic.titles).format_map(fill)
        body = _body(topic, rng, fill)
        category = topic.category
        if tricky and index == 0:
            title, category = corpus.TRICKY_TITLE.format_map(fill), "Kegiatan"
        if hostile and index == min(1, len(times) - 1):
            title, category = corpus.HOSTILE_TITLE.format_map(fill), "Pengumuman"
            body = corpus.HOSTILE_BODY.format_map(fill)
        slug = unique_slug(slugify(title), seen)
        next_id -= rng.randint(1, 2) if index else 0
        image = f"sedang_{next_id}_{slug[:24].rstrip('-')}.jpg"
        articles.append(Article(next_id, title, slug, when, category, body, image))
    return articles


def unique_slug(slug: str, seen: set[str]) -> str:
    """`slug`, or `slug-2`, `slug-3`... the first not in `seen` (which is updated)."""
    candidate, n = slug, 1
    while candidate in seen:
        n += 1
        candidate = f"{slug}-{n}"
    seen.add(candidate)
    return candidate


def default_body(title: str, village: SimVillage) -> str:
    """A short plausible body for articles added at runtime without one."""
    return (
        f"<p><strong>{html.escape(village.name.upper())}</strong> – {html.escape(title)}.</p>\n"
        f"<p>Informasi ini disampaikan oleh Pemerintah {village.sebutan} {village.name} "
        f"untuk diketahui oleh seluruh warga.</p>"
    )
