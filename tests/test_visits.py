"""What a village's own statistics see of Sipande: one returning visitor, not a new one per
request. The fleet counts visits per PHP-style session as OpenSID does (fleet.sessions)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlmodel import Session

from aggregator.cli import poll_once
from aggregator.models import Village
from fleet import Fleet
from fleet.kinds import OPENSID_KINDS
from tests.test_poller import _setup


def test_three_polls_and_a_scan_count_as_one_visit_and_one_read_at_most(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.of_kinds(OPENSID_KINDS, seed=5) as fleet:
            config, store = _setup(fleet, tmp_path)
            # Each poll_once is a new process's fetcher: the session comes back from the store.
            for _ in range(3):
                await poll_once(config, store)
            for v in fleet.villages:
                kind = fleet.kind(v.code)
                rows = store.village_detail(v.code)
                assert rows is not None and rows["last_check_ok"], kind
                html_pages = [r for r in fleet.requests(v.code) if "feed" not in r.path]
                assert len(html_pages) >= 3, kind
                assert fleet.visits(v.code) == 1, (kind, fleet.visits(v.code))
                assert max(fleet.reads(v.code).values(), default=0) <= 1, kind
            with Session(store.engine) as s:
                village = s.get(Village, fleet.villages[0].code)
                assert village is not None and village.integrity_checked_at  # a scan ran
                kept = json.loads(village.cookies)
            assert any("ci_session" in jar for jar in kept.values())
            store.close()

    asyncio.run(main())


def test_without_the_jar_every_poll_would_be_a_new_visitor(tmp_path: Path) -> None:
    """The fleet's counter really counts cookieless clients (the test above would pass
    vacuously otherwise)."""
    import httpx

    async def main() -> None:
        async with Fleet.of_kinds(OPENSID_KINDS[:1], seed=5) as fleet:
            code = fleet.villages[0].code
            async with httpx.AsyncClient() as client:
                for _ in range(3):
                    client.cookies.clear()
                    await client.get(fleet.url(code))
            assert fleet.visits(code) == 3

    asyncio.run(main())
