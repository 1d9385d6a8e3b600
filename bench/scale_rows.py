"""The rows of bench_scale.py's national store (scale_store.py loads them): 84,000 villages
in 7,000 kecamatan, 12 villages per kecamatan, every status, news spread very unevenly (many
villages with a handful, a few with thousands, villages without a site with none, ~2% spam),
daily score snapshots, kecamatan roll-ups and check roll-ups for `--days` days, a week of
raw checks, services, visitor counters and integrity findings.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.clock import wib_day, wib_day_start
from aggregator.decide.scoring import SERVICE_KINDS
from aggregator.decide.status import STATUSES

PER_KECAMATAN = 12
KEC_PER_KAB = 14
CATEGORIES = (
    "Berita Desa", "Pengumuman", "Kegiatan", "Pembangunan", "Kesehatan", "Ekonomi",
    "Pendidikan", "Pertanian", "BUMDes", "Keuangan", "Sosial", "Budaya",
)  # fmt: skip
# Topic words with rough weights: "posyandu" lands in a few percent of the items.
TOPICS = (
    ("musyawarah desa", 8), ("posyandu", 5), ("jalan desa", 6), ("irigasi", 3),
    ("bumdes", 4), ("stunting", 3), ("apbdes", 4), ("budidaya lele", 1), ("gotong royong", 5),
    ("karang taruna", 3), ("pelatihan", 5), ("bantuan langsung tunai", 4), ("sosialisasi", 6),
    ("jembatan", 2), ("pemilihan kepala desa", 2), ("vaksinasi", 2), ("pkk", 4),
    ("ketahanan pangan", 3), ("embung", 1), ("rumah tidak layak huni", 2), ("sedekah bumi", 1),
    ("lomba desa", 2), ("penyaluran pupuk", 2), ("kerja bakti", 4), ("festival budaya", 1),
)  # fmt: skip
TOPIC_NAMES = [t for t, _ in TOPICS]
TOPIC_WEIGHTS = [w for _, w in TOPICS]
OPENINGS = ("Kegiatan", "Pelaksanaan", "Rapat", "Laporan", "Pengumuman", "Informasi", "Agenda")
FILLER = (
    "Pemerintah desa bersama warga melaksanakan kegiatan ini di balai desa.",
    "Kepala desa menyampaikan terima kasih atas partisipasi seluruh warga.",
    "Kegiatan dihadiri perangkat desa, BPD, dan tokoh masyarakat setempat.",
    "Dana kegiatan bersumber dari APBDes tahun anggaran berjalan.",
    "Warga diharapkan terus mendukung program pembangunan desa.",
    "Pendamping desa turut hadir memberikan arahan teknis.",
)
SPAM = ("Slot gacor maxwin hari ini", "Situs judi online terpercaya", "Bandar togel resmi")
SYLLABLES_A = (
    "Karang", "Sido", "Wono", "Kedung", "Tegal", "Banjar", "Sumber", "Suka", "Mekar",
    "Pasir", "Cibeber", "Tanjung", "Bukit", "Kali", "Rejo", "Jati", "Ngampel",
)  # fmt: skip
SYLLABLES_B = (
    "rejo", "mulyo", "sari", "jaya", "makmur", "agung", "asri", "harjo", "wangi",
    "manik", "anyar", "lor", "kidul", "wetan", "kulon", "raya", "indah",
)  # fmt: skip
# Share of villages per status (no_site villages are exactly those without a url).
STATUS_SHARE = (
    ("active", 0.45), ("low_activity", 0.17), ("inactive", 0.15), ("unreachable", 0.12),
    ("compromised", 0.03), ("no_site", 0.08),
)  # fmt: skip


SCORE_RANGE = {
    "active": (55, 98), "low_activity": (35, 70), "inactive": (5, 40),
    "unreachable": (0, 30), "compromised": (0, 40), "no_site": (0, 0),
}  # fmt: skip


def fmt_dt(value: datetime) -> str:
    """SQLAlchemy's SQLite storage format for naive UTC datetimes."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Layout:
    """Codes and names of every kecamatan and village, and each village's status."""

    def __init__(self, villages: int, seed: int) -> None:
        rnd = random.Random(seed)
        self.kecamatan: list[tuple[str, str, str]] = []  # code, name, kabupaten code
        self.villages: list[dict[str, Any]] = []
        statuses = [s for s, _ in STATUS_SHARE]
        shares = [w for _, w in STATUS_SHARE]
        for k in range(-(-villages // PER_KECAMATAN)):
            kab = k // KEC_PER_KAB
            kab_code = f"{11 + kab // 30:02d}.{kab % 30 + 1:02d}"
            kcode = f"{kab_code}.{k % KEC_PER_KAB + 1:02d}"
            kname = rnd.choice(SYLLABLES_A) + rnd.choice(SYLLABLES_B)
            self.kecamatan.append((kcode, kname, kab_code))
            for i in range(min(PER_KECAMATAN, villages - k * PER_KECAMATAN)):
                status = rnd.choices(statuses, shares)[0]
                self.villages.append(
                    {
                        "code": f"{kcode}.{2001 + i}",
                        "kec": kcode,
                        "name": rnd.choice(SYLLABLES_A) + rnd.choice(SYLLABLES_B),
                        "status": status,
                        "url": "" if status == "no_site" else f"https://d{k}x{i}.desa.id/",
                        "platform": rnd.choice(("opensid", "opensid", "wordpress", "html")),
                    }
                )


class Generator:
    """Rows of every table as tuples of Python values, in bulk-insert order."""

    def __init__(self, layout: Layout, news: int, days: int, now: datetime, seed: int) -> None:
        self.layout = layout
        self.news = news
        self.days = days
        self.now = now
        self.seed = seed
        rnd = random.Random(seed + 1)
        # News per village: Pareto-like weights, none without a site, few when silent.
        weight = {"active": 1.0, "low_activity": 0.6, "inactive": 0.3, "unreachable": 0.5,
                  "compromised": 0.8, "no_site": 0.0}  # fmt: skip
        weights = [
            0.0 if rnd.random() < 0.1 else weight[v["status"]] * rnd.paretovariate(1.3)
            for v in layout.villages
        ]
        total = sum(weights) or 1.0
        counts = [int(w / total * news) for w in weights]
        short = news - sum(counts)
        order = sorted(range(len(counts)), key=lambda i: -weights[i])
        for i in order[: max(0, short)]:
            counts[i] += 1
        self.news_per_village = counts
        # Newest post per village follows its status.
        self.last_post: list[datetime | None] = []
        for v, n in zip(layout.villages, counts, strict=True):
            if n == 0:
                self.last_post.append(None)
                continue
            age = {"active": (0, 25), "low_activity": (31, 85), "inactive": (95, 600)}.get(
                v["status"], (0, 200)
            )
            self.last_post.append(now - timedelta(days=rnd.uniform(*age)))

    def kecamatan_rows(self) -> Iterator[tuple[Any, ...]]:
        for code, name, kab in self.layout.kecamatan:
            yield (code, name, kab, True)

    KECAMATAN_COLS = ("code", "name", "kabupaten_code", "in_config")
    VILLAGE_COLS = (
        "code", "kecamatan_code", "name", "type", "url", "platform", "detected_platform",
        "feed_url", "html_rules", "in_config", "next_check_at", "consecutive_failures",
        "consecutive_ok", "failing_since", "last_checked_at", "last_check_ok",
        "last_error_phase", "last_error_message", "last_success_at", "validators",
        "last_post_at", "posts_30d", "news_count", "status", "status_since", "score",
        "integrity_clean_streak", "kip_score", "security_score", "cert_alerted",
        "domain_alerted", "score_components", "scored_at",
    )  # fmt: skip

    def score_of(self, status: str, rnd: random.Random) -> float:
        lo, hi = SCORE_RANGE[status]
        return round(rnd.uniform(lo, hi), 1)

    def village_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 2)
        now = self.now
        for v, n, last in zip(
            self.layout.villages, self.news_per_village, self.last_post, strict=True
        ):
            st = v["status"]
            site = bool(v["url"])
            failing = st == "unreachable"
            failing_since = now - timedelta(days=rnd.uniform(1, 60)) if failing else None
            posts_30d = 0 if last is None or last < now - timedelta(days=30) else min(n, 40)
            yield (
                v["code"], v["kec"], v["name"], "desa", v["url"], v["platform"],
                v["platform"] if site else None, None, "", True,
                now + timedelta(minutes=rnd.randint(1, 1800)),
                rnd.randint(3, 40) if failing else 0, 0 if failing else rnd.randint(1, 50),
                failing_since, now - timedelta(minutes=rnd.randint(1, 60)) if site else None,
                (not failing) if site else None, "connect" if failing else None,
                "Connection refused" if failing else None,
                failing_since or (now - timedelta(hours=1) if site else None), "{}",
                last, posts_30d, n, st, now - timedelta(days=rnd.uniform(0, 80)),
                self.score_of(st, rnd), 0,
                round(rnd.uniform(10, 95), 1) if site else None,
                round(rnd.uniform(10, 95), 1) if site else None, 0, 0,
                '{"components": [], "penalty": null}', now,
            )  # fmt: skip

    NEWS_COLS = (
        "village_code", "dedup_key", "guid", "url", "title", "summary", "published_at",
        "category", "thumbnail", "first_seen", "content_hash", "is_spam",
    )  # fmt: skip

    def news_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 3)
        serial = 0
        for v, n, last in zip(
            self.layout.villages, self.news_per_village, self.last_post, strict=True
        ):
            if not n or last is None:
                continue
            topics = rnd.choices(TOPIC_NAMES, TOPIC_WEIGHTS, k=n)
            for j in range(n):
                serial += 1
                when = last - timedelta(minutes=rnd.randint(0, 720 * 24 * 60) if j else 0)
                url = f"{v['url']}index.php/artikel/{serial}"
                sha = hashlib.sha1(url.encode()).hexdigest()
                if rnd.random() < 0.02:
                    title, summary, spam = rnd.choice(SPAM), "Daftar sekarang bonus 100%", True
                else:
                    topic = topics[j]
                    title = f"{rnd.choice(OPENINGS)} {topic} Desa {v['name']} {when:%B %Y}"
                    summary = f"{topic.capitalize()} di Desa {v['name']}. " + " ".join(
                        rnd.sample(FILLER, 3)
                    )
                    spam = False
                yield (
                    v["code"], f"url:{sha}", url, url, title, summary, when,
                    rnd.choice(CATEGORIES), None, when + timedelta(hours=rnd.randint(1, 6)),
                    sha + sha[:24], spam,
                )  # fmt: skip

    SNAP_COLS = ("village_code", "day", "score", "status", "components")

    def score_snapshot_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 4)
        today = wib_day(self.now)
        for v in self.layout.villages:
            score = self.score_of(v["status"], rnd)
            status = v["status"]
            for d in range(self.days - 1, -1, -1):
                if rnd.random() < 0.03 and status != "no_site":  # occasional change
                    status = rnd.choice(("active", "low_activity", "inactive", "unreachable"))
                if d == 0:
                    status = v["status"]
                score = max(0.0, min(100.0, round(score + rnd.uniform(-2, 2), 1)))
                comp = f'{{"cadence":{score / 4:.1f},"recency":{score / 5:.1f}}}'
                yield (v["code"], today - timedelta(days=d), score, status, comp)

    KECSNAP_COLS = ("kecamatan_code", "day", "villages", "counts", "mean_score", "mean_kip",
                    "mean_security", "ready")  # fmt: skip

    def kecamatan_snapshot_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 5)
        today = wib_day(self.now)
        by_kec: dict[str, list[str]] = {}
        for v in self.layout.villages:
            by_kec.setdefault(v["kec"], []).append(v["status"])
        for code, statuses in by_kec.items():
            base = Counter(statuses)
            for d in range(self.days - 1, -1, -1):
                counts = dict(base)
                if d and rnd.random() < 0.3 and counts.get("active"):
                    counts["active"] -= 1
                    counts["inactive"] = counts.get("inactive", 0) + 1
                with_site = len(statuses) - counts.get("no_site", 0)
                yield (
                    code, today - timedelta(days=d), len(statuses),
                    json.dumps({s: counts.get(s, 0) for s in STATUSES}),
                    round(rnd.uniform(30, 80), 1), round(rnd.uniform(30, 80), 1),
                    round(rnd.uniform(30, 80), 1),
                    with_site > 0 and counts.get("active", 0) == with_site,
                )  # fmt: skip

    ROLLUP_COLS = ("village_code", "period", "start", "checks", "ok", "total_ms", "max_ms")

    def rollup_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 6)
        today = wib_day(self.now)
        for v in self.layout.villages:
            if not v["url"]:
                continue
            good = 0.2 if v["status"] == "unreachable" else 0.97
            for d in range(self.days - 1, -1, -1):
                day = today - timedelta(days=d)
                start = wib_day_start(day)
                n = rnd.randint(20, 48)
                ok = sum(rnd.random() < good for _ in range(4)) * n // 4
                yield (v["code"], "day", start, n, ok, n * rnd.randint(150, 900), 4000)

    CHECK_COLS = ("village_code", "started_at", "duration_ms", "ok", "phase", "status_code",
                  "message", "url", "bytes", "changed", "new_items")  # fmt: skip

    def check_rows(self, per_day: int) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 7)
        for v in self.layout.villages:
            if not v["url"]:
                continue
            failing = v["status"] == "unreachable"
            step = timedelta(hours=24 / per_day)
            for h in range(7 * per_day):
                ok = not failing or rnd.random() < 0.2
                yield (
                    v["code"], self.now - step * h - timedelta(minutes=rnd.randint(0, 30)),
                    rnd.randint(80, 1500), ok, None if ok else "connect",
                    200 if ok else None, None if ok else "Connection refused", v["url"],
                    rnd.randint(2000, 90000), rnd.random() < 0.1, 0,
                )  # fmt: skip

    SERVICE_COLS = ("village_code", "kind", "available", "count", "last_date", "url",
                    "checked_at")  # fmt: skip

    def service_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 8)
        for v in self.layout.villages:
            if v["platform"] != "opensid" or not v["url"]:
                continue
            for kind in SERVICE_KINDS:
                available = rnd.random() < 0.6
                yield (
                    v["code"], kind, available, rnd.randint(0, 80) if available else None,
                    self.now - timedelta(days=rnd.randint(0, 200)) if available else None,
                    f"{v['url']}{kind}" if available else None, self.now,
                )  # fmt: skip

    METRIC_COLS = ("village_code", "name", "value", "at")

    def metric_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 9)
        for v in self.layout.villages:
            if v["platform"] != "opensid" or not v["url"]:
                continue
            total = rnd.randint(1000, 90000)
            for d in range(13, -1, -1):
                total += rnd.randint(0, 120)
                yield (v["code"], "visitors_total", float(total), self.now - timedelta(days=d))

    FINDING_COLS = ("village_code", "kind", "url", "evidence", "first_seen", "last_seen",
                    "status", "level", "score", "signals")  # fmt: skip

    def finding_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 10)
        for v in self.layout.villages:
            if v["status"] != "compromised":
                continue
            for _ in range(rnd.randint(1, 4)):
                seen = self.now - timedelta(days=rnd.uniform(1, 30))
                yield (
                    v["code"], "judi_online", f"{v['url']}artikel/slot", "slot gacor", seen,
                    self.now, "open", "compromised", 90, "judol_words",
                )  # fmt: skip


# -- loading ------------------------------------------------------------------------------
