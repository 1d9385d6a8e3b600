"""The store: every read and write of the database, one module per entity.

`Store` is composed of one part per entity, each a class derived from `StoreBase` (the
engine, the write lock, the settings) with its own state created in its `__init__`:

- `base`: engine, schema migration, settings with the dashboard's threshold overrides;
- `schedule`: config sync, due villages, leases, re-polls, status re-derivation;
- `polls`: a poll's outcome (its check, schedule, harvest);
- `news`: merging news items, and the news pages' reads and search;
- `findings`: integrity findings, opened, resolved, acknowledged and read;
- `villages`: villages and kecamatan as the pages read them, the attention list;
- `summary`: per-kecamatan roll-ups and "siap Sipande";
- `scores`: the scoring run, check roll-ups, retention;
- `history`: reads of the daily snapshots;
- `reconstruct`: a first-polled village's past year, from its news archive;
- `users`: dashboard users and their sessions;
- `yardsticks`: KIP and security collections.

`derived` holds the functions that keep a village's derived columns (counts, last post,
status) current; every part that changes their inputs calls them. A new query goes to the
module of the entity it is about, as a method of that part; a new entity gets its own
module and its part is added to `Store` below.
"""

from __future__ import annotations

from aggregator.store.base import DEFAULT_DATABASE_URL, StoreBase, make_engine
from aggregator.store.findings import Findings
from aggregator.store.history import History
from aggregator.store.merge import dedup_keys
from aggregator.store.news import News
from aggregator.store.polls import Polls
from aggregator.store.reconstruct import Reconstruction
from aggregator.store.schedule import Schedule
from aggregator.store.scores import Scores
from aggregator.store.summary import Summary
from aggregator.store.users import Users
from aggregator.store.villages import Villages
from aggregator.store.yardsticks import Yardsticks

__all__ = ["DEFAULT_DATABASE_URL", "Store", "StoreBase", "dedup_keys", "make_engine"]


class Store(
    Schedule,
    Polls,
    News,
    Findings,
    Villages,
    Summary,
    Scores,
    Reconstruction,
    History,
    Users,
    Yardsticks,
):
    """All reads and writes: the web pages read through it, the poller, writer and workers
    write through it. Its parts share only `StoreBase`'s engine, lock and settings."""
