"""The poller's single writer: poll results queue up and are written in batches, one
transaction per batch on one thread (SQLite has one writer anyway; a commit per village and
a thread hand-off per village were a large part of a pass's CPU).

A batch is written once `max_batch` results wait or `linger` seconds after the first one
came in; whatever queues while a batch is being written forms the next one. Under heavy load
batches fill at once; under light load a result waits at most `linger` (a transaction per
village costs about a millisecond of CPU, most of an unchanged poll).

A village's first poll also brings its first score and a reconstructed year, each a few
queries and a commit per batch: while a first poll waits, the batch lingers `first_linger`
(a first pass finishes a village every few tenths of a second, so a 0.05 s linger wrote 1.7
villages a batch; 0.5 s writes about five, and the writer's CPU of a first pass fell from
25.6 to 19.1 ms a village). A first poll takes seconds, so the wait is a few per cent of it;
steady polls alone still wait at most `linger`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from aggregator.store import Store
from aggregator.types import Decision, PollOutcome

log = logging.getLogger(__name__)

MAX_BATCH = 128
LINGER_SECONDS = 0.05
FIRST_LINGER_SECONDS = 0.5


class BatchWriter:
    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = MAX_BATCH,
        linger: float = LINGER_SECONDS,
        first_linger: float = FIRST_LINGER_SECONDS,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.linger = linger
        self.first_linger = first_linger
        # (result, decision, its future, whether it is the village's first poll)
        self._queue: list[tuple[PollOutcome, Decision, asyncio.Future[int], bool]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # written so far, for the bench and the tests
        self.peak_queue = 0  # the most results ever waiting to be written
        self.cpu_seconds = 0.0  # CPU time of the writing thread, for the bench

    async def write(self, outcome: PollOutcome, decision: Decision, *, first: bool = False) -> int:
        """Queue one poll's result (`first`: the village's first poll); returns its new items
        once it is committed. Raises what writing that poll raised."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((outcome, decision, done, first))
        self.peak_queue = max(self.peak_queue, len(self._queue))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await done

    def _write(self, batch: list[tuple[PollOutcome, Decision]]) -> list[int | Exception]:
        started = time.thread_time()
        try:
            first: list[str] = []  # the villages of the batch polled for the first time
            results = self.store.record_polls(batch, first)
            if not first:
                return results
            try:  # a village's first poll brings its first status and score with it
                self.store.score_first_polls(first, datetime.now(UTC))
            except Exception:
                log.exception("first scores of %d first-polled villages not written", len(first))
            try:  # ...and its past year, read from the archive that poll stored
                self.store.reconstruct_history(first, datetime.now(UTC))
            except Exception:
                log.exception("history of %d first-polled villages not reconstructed", len(first))
            return results
        finally:
            self.cpu_seconds += time.thread_time() - started

    async def _drain(self) -> None:
        while self._queue:
            if len(self._queue) < self.max_batch:
                first = any(f for *_, f in self._queue)
                await asyncio.sleep(self.first_linger if first else self.linger)
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                results = await asyncio.to_thread(self._write, [(o, d) for o, d, _, _ in batch])
            except Exception as e:  # the store itself is broken: every poll of it fails
                results = [e] * len(batch)
            self.batches += 1
            for (_, _, done, _), result in zip(batch, results, strict=True):
                if done.done():
                    continue
                if isinstance(result, Exception):
                    done.set_exception(result)
                else:
                    done.set_result(result)
