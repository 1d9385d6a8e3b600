"""`sipande discover` from the admin view: its review file read back for the Mulai page, and
one background run at a time for a chosen kecamatan, merged into that review file (the rows
of other kecamatan are kept). Nothing here touches the districts file."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from aggregator.onboarding.discover import Proposal
from aggregator.onboarding.resolve import Resolver, SystemResolver
from aggregator.onboarding.yaml_edit import read_text, write_atomically
from aggregator.settings import Settings, load_config

log = logging.getLogger(__name__)

REVIEW_FILE = "review.csv"  # beside the districts file, as `sipande discover --out` suggests
REVIEW_COLUMNS = [f.name for f in dataclasses.fields(Proposal)]
MAX_PROPOSALS = 5000  # rows of a review file shown; a kabupaten has a few hundred at most
CONFIDENCE_LABELS = {"high": "tinggi", "medium": "sedang", "low": "rendah"}


def review_path(config_path: Path) -> Path:
    return config_path.parent / REVIEW_FILE


def proposals_from(path: Path) -> list[dict[str, str]]:
    """The review file's rows (code, name, kecamatan, candidate, evidence, confidence)."""
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError):
        return []
    out: list[dict[str, str]] = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        if len(out) >= MAX_PROPOSALS:
            break
        out.append({c: (row.get(c) or "").strip()[:500] for c in REVIEW_COLUMNS})
    return out


def _review_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, REVIEW_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class Discovery:
    """The background run: at most one; `message` says how the last one went."""

    running: str | None = None  # kecamatan code being probed
    message: str = ""
    resolver: Resolver | None = None  # tests point candidate names at loopback servers
    task: asyncio.Task[None] | None = None

    def start(
        self, config_path: Path, kecamatan: str, settings: Settings, loop: asyncio.AbstractEventLoop
    ) -> bool:
        if self.running is not None:
            return False
        self.running = kecamatan
        self.message = ""
        self.task = loop.create_task(self._run(config_path, kecamatan, settings))
        return True

    async def _run(self, config_path: Path, kecamatan: str, settings: Settings) -> None:
        from aggregator.onboarding.discover import discover

        try:
            config = await asyncio.to_thread(load_config, config_path)
            resolver = self.resolver or SystemResolver(
                allow_private=settings.allow_private_addresses, timeout=settings.connect_timeout
            )
            found = await discover(
                config,
                resolver,
                kecamatan=kecamatan,
                timeout=min(settings.request_timeout, 10.0),
                concurrency=8,
            )
            path = review_path(config_path)
            others = [
                row
                for row in await asyncio.to_thread(proposals_from, path)
                if not row["code"].startswith(kecamatan + ".")
            ]
            rows = others + [{c: str(getattr(p, c)) for c in REVIEW_COLUMNS} for p in found]
            await asyncio.to_thread(write_atomically, path, _review_text(rows))
            villages = len({p.code for p in found})
            self.message = (
                f"Penelusuran Kecamatan {kecamatan} selesai: {len(found)} usulan untuk "
                f"{villages} desa ditulis ke {path.name}."
            )
            log.info("discover %s from the admin view: %d proposals", kecamatan, len(found))
        except Exception as e:  # reported on the page; the web app goes on
            log.exception("discover %s from the admin view failed", kecamatan)
            self.message = f"Penelusuran Kecamatan {kecamatan} gagal: {e}"
        finally:
            self.running = None
