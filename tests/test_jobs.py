"""One table of background jobs, run by the embedded scheduler and by the distributed
workers alike; on a real PostgreSQL, one worker process collects a village's yardsticks and
sends its certificate expiry alert to a webhook on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import trustme

from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.service.jobs import JOBS, JobHost, jobs_for
from aggregator.service.scheduler import build_scheduler
from aggregator.service.worker import blueprint
from aggregator.settings import Settings, load_config
from aggregator.store import Store
from tests.conftest import RawServer, response
from tests.test_poller import _rss
from tests.test_worker import _count, _empty, worker_command
from tests.test_yardsticks_security import TlsServer, _server_context

ROOT = Path(__file__).resolve().parents[1]


def test_scheduler_and_worker_run_the_same_jobs(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/j.db", Settings())
    config = tmp_path / "districts.yaml"
    config.write_text("")  # only its existence matters here

    async def main() -> tuple[set[str], set[str]]:
        async with Fetcher(Settings()) as fetcher:
            poller = Poller(store, fetcher, store.settings)
            with_config = {j.id for j in build_scheduler(poller, store, config_path=str(config))
                           .get_jobs()}  # fmt: skip
            without = {j.id for j in build_scheduler(poller, store).get_jobs()}
            return with_config, without

    with_config, without = asyncio.run(main())
    names = {job.name for job in JOBS}
    assert {"score", "rollup_checks", "prune", "yardsticks", "reload_config"} <= names
    assert with_config == names | {"dispatch"}
    assert without == names - {"reload_config"} | {"dispatch"}
    shared = {job.name for job in JOBS if not job.each_process}
    tasks = set(blueprint.tasks)
    assert shared <= tasks  # each a periodic task of the workers
    periodic = {p.periodic_id for p in blueprint.periodic_registry.periodic_tasks.values()}
    assert shared <= periodic
    host = JobHost(store, cast(Any, None))
    assert {j.name for j in jobs_for(host)} == names - {"reload_config"}
    store.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_one_worker_collects_yardsticks_and_sends_an_expiry_alert(
    pg_url: str, tmp_path: Path
) -> None:
    """`serve --no-scheduler` plus workers: a worker polls the village, then its yardsticks
    job reads the site's certificate (9 days left) and the webhook gets the warning."""
    _empty(pg_url)
    ca = trustme.CA(organization_name="Sipande Test CA")
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    feed = _rss([("a", "Kerja bakti", "Warga membersihkan saluran air.")])
    code = "33.03.01.2001"

    async def site(method: str, path: str, _: dict[str, str], w: asyncio.StreamWriter) -> None:
        if path.startswith("/index.php/feed"):
            w.write(response(200, feed, {"content-type": "application/rss+xml"}))
        else:
            w.write(response(404, b"not found"))

    async def hook(method: str, path: str, _: dict[str, str], w: asyncio.StreamWriter) -> None:
        w.write(response(200, b"{}", {"content-type": "application/json"}))

    async def main() -> tuple[list[dict[str, Any]], list[tuple[object, ...]], bytes]:
        context = _server_context(ca, "127.0.0.1", days=9.5)
        async with TlsServer(site, context) as tls, RawServer(hook) as webhook:
            config = tmp_path / "districts.yaml"
            config.write_text(
                'kabupaten: {code: "33.03", name: Purbalingga}\n'
                "settings:\n  allow_private_addresses: true\n  request_timeout: 3s\n"
                # The weekly digest off: on a Monday from 07:00 WIB it would go out too.
                f'  alerts: {{webhook_url: "{webhook.url}/hook", digest_day: off}}\n'
                'kecamatan:\n  - code: "33.03.01"\n    name: Satu\n    villages:\n'
                f'      - {{code: "{code}", name: Uji, url: "{tls.url}/index.php/feed",'
                " platform: feed}\n"
            )
            store = Store(pg_url, Settings())
            store.migrate()
            store.sync_config(load_config(config), datetime.now(UTC))
            store.mark_all_due(datetime.now(UTC))  # polled at once, before the yardsticks run
            store.close()
            log = tmp_path / "worker.log"
            env = {**os.environ, "SIPANDE_DATABASE_URL": "", "SSL_CERT_FILE": str(ca_path)}
            with log.open("wb") as out:
                worker = await asyncio.create_subprocess_exec(
                    *worker_command(config, pg_url, concurrency=2),
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                )
            try:
                deadline = time.monotonic() + 90  # the first yardsticks run is 20 s in
                while time.monotonic() < deadline and not webhook.bodies:
                    await asyncio.sleep(0.5)
                rows = await asyncio.to_thread(
                    _count,
                    pg_url,
                    "SELECT village_code, cert_days_left, kip_score IS NOT NULL"
                    " FROM yardstickcheck",
                )
            finally:
                worker.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(worker.wait(), 15)
                except TimeoutError:
                    worker.kill()
            return [json.loads(b) for b in webhook.bodies], rows, log.read_bytes()

    alerts, rows, log = asyncio.run(main())
    assert rows == [(code, 9, True)], log.decode(errors="replace")[-3000:]
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "certificate_expiring"
    assert alerts[0]["village_code"] == code
    assert "9 hari" in alerts[0]["evidence"]
    checked = _count(pg_url, "SELECT count(*) FROM village WHERE last_check_ok")
    assert checked == [(1,)]
