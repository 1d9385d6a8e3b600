"""A worker follows edits of the districts file (no PostgreSQL needed for this part)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.service.worker import Runtime, config_watcher
from aggregator.settings import load_config
from aggregator.store import Store

HEAD = 'kabupaten: {code: "33.03", name: Purbalingga}\n'
KEC = '  - code: "33.03.01"\n    name: Kemangkon\n    villages:\n'
ONE = '      - {code: "33.03.01.2001", name: Kalialang, url: "https://kalialang.desa.id/"}\n'
TWO = '      - {code: "33.03.01.2002", name: Bokol, url: "https://bokol.desa.id/"}\n'


def test_a_worker_takes_a_changed_districts_file_and_ignores_a_broken_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "districts.yaml"
    path.write_text(HEAD + "kecamatan:\n" + KEC + ONE)
    config = load_config(path)
    store = Store(f"sqlite:///{tmp_path}/w.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))

    def touch(text: str, step: int) -> None:
        path.write_text(text)
        stamp = path.stat().st_mtime_ns + step * 1_000_000_000
        os.utime(path, ns=(stamp, stamp))

    async def main() -> None:
        async with Fetcher(config.settings) as fetcher:
            poller = Poller(store, fetcher, config.settings)
            rt = Runtime(store, config.settings, poller, app=cast(Any, None))
            check = config_watcher(rt, str(path))
            assert await check() is False  # unchanged
            touch(HEAD + "settings: {request_timeout: 7s}\nkecamatan:\n" + KEC + ONE + TWO, 1)
            assert await check() is True
            assert rt.settings.request_timeout == 7.0
            assert poller.settings.request_timeout == 7.0
            assert fetcher.settings.request_timeout == 7.0
            codes = {v["code"] for v in store.list_villages()}
            assert codes == {"33.03.01.2001", "33.03.01.2002"}
            touch(HEAD + "kecamatan: [oops\n", 2)  # a broken edit: logged, nothing changes
            assert await check() is False
            assert poller.settings.request_timeout == 7.0
            assert len(store.list_villages()) == 2

    asyncio.run(main())
    store.close()
