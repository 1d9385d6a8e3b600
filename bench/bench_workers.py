"""Multi-worker: 3 worker processes against PostgreSQL and a 1,000-village fleet.

The village sites are bench_poll's (same latency mix, same OpenSID-shaped feed), served by a
separate process, each village on its own loopback port so it is its own host for the
workers' per-host lock (`sipande worker` has no static host table, so names can't be used).
The database is emptied, the config migrated and synced, then W real `sipande worker`
processes start and share one pass; `--kill-one` SIGKILLs one of them mid-pass. The fleet
counts requests in flight per village, so a village polled by two workers at once shows up
even when the poll that overlapped was never recorded. Prints one JSON line and a readable
table: wall time of the pass (first claim to the end of the last check) against the ideal for
that mix and W x concurrency, villages polled, duplicates, concurrency per village, poll jobs
per worker, jobs retried and stalled, CPU seconds and peak RSS per worker process, and how
deep the poll queue got and how many polls ran at once (sampled every 0.2 s).

`ideal_wall_s` counts one request per village; a village's first poll in a worker process
also asks for robots.txt (cached per process), which the fleet answers after the same delay,
so `ideal_wall_requests_made_s` counts the requests the fleet actually served. `--passes 2`
(the default) then makes every village due again: the `warm_*` numbers are that pass, with
last durations known (dispatch queues the slowest sites first).

    .venv/bin/python bench/bench_workers.py --villages 1000 --workers 3 --concurrency 32
    .venv/bin/python bench/bench_workers.py --kill-one
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.service.worker import conninfo
from aggregator.settings import parse_config
from aggregator.store import Store
from bench.bench_poll import HOST, answer, config_text, feed, latency, read_request

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/sipande_bench_workers"
PROTECTED = {"sipande_test", "sipande_bench_scale", "postgres", "template0", "template1"}
WORKER = (sys.executable, "-m", "aggregator", "worker")  # the `sipande worker` command
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the fleet: one port per village, in its own process --------------------------------


def serve(n: int, seed: int, items: int, conn: Any) -> None:
    """bench_poll's village sites, village `i` on its own port; counts requests per village
    and the most in flight at once (a request ends when answered or when the client leaves)."""
    now = datetime.now(UTC)
    cache: dict[int, bytes] = {}
    inflight = [0] * n
    peak = [0] * n
    requests = [0] * n

    async def handle(i: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await read_request(reader)) is not None:
                line, headers = request
                requests[i] += 1
                inflight[i] += 1
                peak[i] = max(peak[i], inflight[i])
                try:
                    delay = latency(i, seed)
                    # While "working" on the answer, notice the client hanging up (its deadline,
                    # or the worker killed): that request is no longer in flight.
                    gone = asyncio.ensure_future(reader.read(1))
                    done, _ = await asyncio.wait({gone}, timeout=delay)
                    if done:
                        return
                    gone.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await gone
                finally:
                    inflight[i] -= 1

                def body(i: int = i) -> bytes:
                    return cache.get(i) or cache.setdefault(i, feed(i, items, now))

                writer.write(answer(line, headers, f'"{seed}-{i}"', body))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def control() -> None:  # answers "stats" from the bench; lists are copied whole
        while conn.recv() == "stats":
            conn.send({"requests": list(requests), "peak": list(peak)})

    async def main() -> None:
        servers = [
            await asyncio.start_server(functools.partial(handle, i), "127.0.0.1", 0, backlog=64)
            for i in range(n)
        ]
        conn.send([s.sockets[0].getsockname()[1] for s in servers])
        threading.Thread(target=control, daemon=True).start()
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def workers_config(n: int, ports: list[int], concurrency: int, timeout: float) -> str:
    """bench_poll's config, each village's url on its own port instead of its own name."""
    pattern = re.escape(HOST).replace(r"\{\}", r"(\d+)")
    return re.sub(
        rf"http://{pattern}:0/",
        lambda m: f"http://127.0.0.1:{ports[int(m[1])]}/",
        config_text(n, 0, concurrency, timeout),
    )


# -- database -----------------------------------------------------------------------------


def reset_database(url: str) -> None:
    """Create the database if missing, else empty it (schema public dropped and recreated)."""
    info = conninfo(url)
    name = conninfo_to_dict(info).get("dbname")
    if not name or name in PROTECTED:
        raise SystemExit(f"refusing to use database {name!r}")
    with psycopg.connect(make_conninfo(info, dbname="postgres"), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            with psycopg.connect(info, autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
        else:
            admin.execute(f'CREATE DATABASE "{name}"')


def has_table(db: psycopg.Connection[Any], name: str) -> bool:
    row = db.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


# -- worker processes ---------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far, from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(stat[11]) + int(stat[12])) / CLK_TCK


def reap(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int | None, float, float]:
    """Wait for a worker to exit: (exit status, CPU seconds, peak RSS MB) from wait4."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            return None, float("nan"), float("nan")
        time.sleep(0.05)


JOB_LINE = re.compile(
    r"(Starting job|Job) sipande:(\w+)\[(\d+)\]\(.*?\)(?: ended with status: ([^,]+))?"
)


def read_log(path: Path) -> dict[str, Any]:
    """What one worker's log says it did: poll jobs started and ended, how, and the stalled
    jobs its retry_stalled runs re-queued."""
    started: set[int] = set()
    ended: set[int] = set()
    outcomes: Counter[str] = Counter()
    stalled = 0
    for line in path.read_text(errors="replace").splitlines():
        m = JOB_LINE.search(line)
        if not m:
            continue
        kind, task, job_id, status = m[1], m[2], int(m[3]), m[4]
        if task == "poll":
            if kind == "Starting job":
                started.add(job_id)
            else:
                ended.add(job_id)
                outcomes[status] += 1
        elif task == "retry_stalled" and status == "Success" and " - Result: " in line:
            stalled += int(line.rsplit(" - Result: ", 1)[1])
    return {
        "started": started,
        "unfinished": started - ended,
        "outcomes": outcomes,
        "stalled_requeued": stalled,
    }


# -- the run ------------------------------------------------------------------------------


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    peak = now = 0
    for _, step in events:  # an end sorts before a start at the same instant
        now += step
        peak = max(peak, now)
    return peak


def warm_pass(
    db: psycopg.Connection[Any], ctl: Any, args: argparse.Namespace, before: dict[str, list[int]]
) -> dict[str, Any]:
    """One more pass once the first is done: every village due again, now with the duration
    of its last check known (dispatch queues the slowest first) and robots.txt cached in the
    worker processes that polled the village before. Same numbers, measured from the moment
    the villages became due (so a dispatch's delay counts)."""
    n, c = args.villages, args.concurrency
    w = args.workers - (1 if args.kill_one else 0)  # the killed one stays dead
    row = db.execute("UPDATE village SET next_check_at = now() RETURNING now()").fetchone()
    assert row
    due_at: datetime = row[0]
    samples: list[tuple[int, int]] = []
    deadline = time.monotonic() + args.max_wait
    while time.monotonic() < deadline:
        time.sleep(0.2)
        row = db.execute(
            'SELECT count(DISTINCT village_code) FROM "check" WHERE started_at >= %s', (due_at,)
        ).fetchone()
        state: dict[str, int] = dict(
            db.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'sipande:poll' GROUP BY 1"
            ).fetchall()
        )
        samples.append((state.get("todo", 0), state.get("doing", 0)))
        if row and row[0] >= n:
            break
    time.sleep(args.grace)
    checks = db.execute(
        'SELECT village_code, started_at, duration_ms FROM "check" WHERE started_at >= %s',
        (due_at,),
    ).fetchall()
    ctl.send("stats")
    after: dict[str, list[int]] = ctl.recv()
    start = list(before["requests"])
    before.update(after)  # the next pass counts from here
    per_village = Counter(code for code, _, _ in checks)
    last_end = max((a + timedelta(milliseconds=ms) for _, a, ms in checks), default=due_at)
    wall = (last_end - due_at).total_seconds()
    spent = [args.timeout if d is None else d for d in (latency(i, args.seed) for i in range(n))]
    ideal = max(sum(spent) / (w * c), max(spent))
    asked = [(b - a) * s for a, b, s in zip(start, after["requests"], spent, strict=True)]
    ideal_asked = max(sum(asked) / (w * c), max(asked))
    busy = [doing for _, doing in samples]
    return {
        "warm_wall_s": round(wall, 2),
        "warm_ideal_wall_s": round(ideal, 2),
        "warm_wall_over_ideal": round(wall / ideal, 3),
        "warm_ideal_wall_requests_made_s": round(ideal_asked, 2),
        "warm_wall_over_ideal_requests_made": round(wall / ideal_asked, 3),
        "warm_villages_polled": len(per_village),
        "warm_villages_polled_twice": sum(1 for k in per_village.values() if k > 1),
        "warm_poll_jobs_todo_max": max((todo for todo, _ in samples), default=0),
        "warm_poll_jobs_running_mean": round(sum(busy) / len(busy), 1) if busy else 0,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    n, w, c = args.villages, args.workers, args.concurrency
    ctl, child = multiprocessing.Pipe()
    fleet = multiprocessing.get_context("spawn").Process(
        target=serve, args=(n, args.seed, args.items, child), daemon=True
    )
    fleet.start()
    ports: list[int] = ctl.recv()
    workdir = Path(tempfile.mkdtemp(prefix="bench_workers."))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        reset_database(args.database)
        config_path = workdir / "fleet.yaml"
        config_path.write_text(workers_config(n, ports, c, args.timeout))
        config = parse_config(config_path.read_text(), str(config_path))
        clock = time.perf_counter()
        store = Store(args.database, config.settings)
        store.migrate()
        store.sync_config(config, datetime.now(UTC))
        store.mark_all_due(datetime.now(UTC))  # one pass: a backlog of all, not the spread
        store.close()
        setup_s = time.perf_counter() - clock

        env = {**os.environ, "SIPANDE_DATABASE_URL": ""}
        logs = [workdir / f"worker{i}.log" for i in range(w)]
        command = [*WORKER, "--config", str(config_path), "--database", args.database]
        command += ["--concurrency", str(c)]
        started_at = time.monotonic()
        for i in range(w):
            with logs[i].open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        pids = [p.pid for p in procs]
        cpu_at: dict[str, list[float]] = {}
        first_claim: datetime | None = None
        first_claim_mono = 0.0
        killed: int | None = None
        killed_in_flight = 0
        polled = 0
        queue_samples: list[tuple[int, int]] = []  # (todo, doing) poll jobs during the pass
        deadline = time.monotonic() + args.max_wait
        with psycopg.connect(conninfo(args.database), autocommit=True) as db:
            while time.monotonic() < deadline:
                time.sleep(0.2)
                if first_claim is None and has_table(db, "procrastinate_jobs"):
                    row = db.execute(
                        "SELECT min(args->>'claimed_at') FROM procrastinate_jobs "
                        "WHERE task_name = 'sipande:poll'"
                    ).fetchone()
                    if row and row[0]:
                        first_claim = datetime.fromisoformat(row[0])
                        first_claim_mono = time.monotonic()
                        cpu_at["claim"] = [cpu_seconds(p) for p in pids]
                if first_claim is None:
                    continue
                row = db.execute('SELECT count(DISTINCT village_code) FROM "check"').fetchone()
                polled = row[0] if row else 0
                state: dict[str, int] = dict(
                    db.execute(
                        "SELECT status::text, count(*) FROM procrastinate_jobs "
                        "WHERE task_name = 'sipande:poll' GROUP BY 1"
                    ).fetchall()
                )
                queue_samples.append((state.get("todo", 0), state.get("doing", 0)))
                if args.kill_one and killed is None and polled >= args.kill_at * n:
                    killed = 0
                    os.kill(pids[killed], signal.SIGKILL)
                if polled >= n:
                    break
            pass_seen_s = time.monotonic() - first_claim_mono if first_claim else float("nan")
            cpu_at["pass"] = [cpu_seconds(p) for p in pids]
            # Let the queue drain (a killed worker's stalled jobs are re-queued and run; a job
            # whose poll was recorded just before the kill must then not poll again).
            drain_deadline = time.monotonic() + args.drain_wait
            while time.monotonic() < drain_deadline:
                row = db.execute(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'sipande:poll' "
                    "AND status IN ('todo', 'doing')"
                ).fetchone()
                if row and row[0] == 0:
                    break
                time.sleep(0.5)
            time.sleep(args.grace)  # a duplicate poll would show up now
            left = db.execute(
                "SELECT status, count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'sipande:poll' GROUP BY 1"
            ).fetchall()
            checks = db.execute(
                'SELECT village_code, started_at, duration_ms, ok FROM "check"'
            ).fetchall()
            village_count = db.execute(
                "SELECT count(*) FROM village WHERE in_config AND url <> ''"
            ).fetchone()
            ctl.send("stats")
            served: dict[str, list[int]] = ctl.recv()
            first_served = {k: list(v) for k, v in served.items()}
            warm = [warm_pass(db, ctl, args, served) for _ in range(args.passes - 1)]

        # Stop the survivors as an operator would (SIGTERM: finish running jobs, then exit).
        stop_clock = time.monotonic()
        for i, p in enumerate(procs):
            if i != killed:
                p.send_signal(signal.SIGTERM)
        reaped = [reap(p, args.stop_wait) for p in procs]
        stop_s = time.monotonic() - stop_clock
        run_s = time.monotonic() - started_at
    finally:
        for p in procs:
            if p.returncode is None and p.poll() is None:
                p.kill()
                p.wait()
        fleet.kill()

    # -- the numbers -----------------------------------------------------------------------
    if first_claim is None:
        raise SystemExit(f"no poll was ever claimed; worker logs in {workdir}")
    per_village: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for code, start, ms, _ok in checks:
        per_village[code].append((start, start + timedelta(milliseconds=ms)))
    # Poll jobs are deleted when done: the first claim seen may be a later one than the first.
    first_claim = min([first_claim, *(a for v in per_village.values() for a, _ in v)])
    last_end = max((b for v in per_village.values() for _, b in v), default=first_claim)
    wall = (last_end - first_claim).total_seconds()
    delays = [latency(i, args.seed) for i in range(n)]
    spent = [args.timeout if d is None else d for d in delays]
    ideal = max(sum(spent) / (w * c), max(spent))
    # The same, for the requests actually made: the first poll of a village in a worker
    # process also asks for robots.txt (cached per process), which waits out the same latency.
    asked = [r * s for r, s in zip(first_served["requests"], spent, strict=True)]
    ideal_asked = max(sum(asked) / (w * c), max(asked))
    busy = [doing for _, doing in queue_samples]
    logged = [read_log(path) for path in logs]
    outcomes: Counter[str] = sum((lg["outcomes"] for lg in logged), Counter())
    if killed is not None:
        killed_in_flight = len(logged[killed]["unfinished"])
    total_village = village_count[0] if village_count else n
    result: dict[str, Any] = {
        "bench": "workers_pass",
        "villages": n,
        "workers": w,
        "concurrency_per_worker": c,
        "request_timeout_s": args.timeout,
        "killed_one": killed is not None,
        "setup_s": round(setup_s, 2),
        "wall_s": round(wall, 2),
        "wall_seen_s": round(pass_seen_s, 2),
        "ideal_wall_s": round(ideal, 2),
        "wall_over_ideal": round(wall / ideal, 3),
        "ideal_wall_requests_made_s": round(ideal_asked, 2),
        "wall_over_ideal_requests_made": round(wall / ideal_asked, 3),
        "poll_jobs_todo_max": max((todo for todo, _ in queue_samples), default=0),
        "poll_jobs_running_mean": round(sum(busy) / len(busy), 1) if busy else 0,
        "poll_jobs_running_max": max(busy, default=0),
        "villages_polled": len(per_village),
        "villages_not_polled": total_village - len(per_village),
        "villages_polled_twice": sum(1 for v in per_village.values() if len(v) > 1),
        "checks": len(checks),
        "checks_ok": sum(1 for r in checks if r[3]),
        "max_concurrent_polls_per_village": max(
            (max_overlap(v) for v in per_village.values()), default=0
        ),
        "max_concurrent_requests_per_village_served": max(served["peak"], default=0),
        "requests_served": sum(first_served["requests"]),
        "poll_jobs_per_worker": [len(lg["started"]) for lg in logged],
        "poll_jobs_ended": dict(outcomes),
        "poll_jobs_in_flight_at_kill": killed_in_flight,
        "jobs_stalled_requeued": sum(lg["stalled_requeued"] for lg in logged),
        "jobs_retried_on_error": outcomes.get("Error, to retry", 0),
        "poll_jobs_left": {status: count for status, count in left},
        "cpu_s_startup_per_worker": [round(x, 2) for x in cpu_at["claim"]],
        "cpu_s_pass_per_worker": [
            round(b - a, 2) if i != killed else None
            for i, (a, b) in enumerate(zip(cpu_at["claim"], cpu_at["pass"], strict=True))
        ],
        "cpu_s_total_per_worker": [round(r[1], 2) for r in reaped],
        "peak_rss_mb_per_worker": [round(r[2], 1) for r in reaped],
        "exit_codes": [r[0] for r in reaped],
        "stop_s": round(stop_s, 2),
        "run_s": round(run_s, 1),
    }
    for extra in warm:
        result |= extra
    if args.logs:
        dest = Path(args.logs)
        dest.mkdir(parents=True, exist_ok=True)
        for path in logs:
            path.replace(dest / path.name)
    for path in workdir.iterdir():
        path.unlink()
    workdir.rmdir()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="emptied first")
    parser.add_argument("--villages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=32, help="polls at once per worker")
    parser.add_argument("--timeout", type=float, default=10.0, help="request deadline, s")
    parser.add_argument("--items", type=int, default=50, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--passes", type=int, default=2, help="passes; after the first, villages are known"
    )
    parser.add_argument("--kill-one", action="store_true", help="SIGKILL one worker mid-pass")
    parser.add_argument(
        "--kill-at", type=float, default=0.3, help="share of villages polled at the kill"
    )
    parser.add_argument("--max-wait", type=float, default=300.0, help="pass deadline, s")
    parser.add_argument("--drain-wait", type=float, default=60.0, help="queue drain cap, s")
    parser.add_argument("--grace", type=float, default=3.0, help="wait for duplicates, s")
    parser.add_argument("--stop-wait", type=float, default=30.0, help="SIGTERM to exit, s")
    parser.add_argument("--logs", help="keep the worker logs in this directory")
    result = run(parser.parse_args())
    print(json.dumps(result))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
