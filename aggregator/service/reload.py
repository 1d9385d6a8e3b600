"""Pick up edits of the districts file without a restart: new villages, urls, weights.

A bad edit is logged with its problems and ignored; the running config stays in force.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aggregator.errors import ConfigError
from aggregator.settings import DistrictConfig, Settings, load_config
from aggregator.store import Store

log = logging.getLogger(__name__)


class ConfigReloader:
    def __init__(
        self,
        path: str | Path,
        store: Store,
        on_settings: Callable[[Settings], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.store = store
        self.on_settings = on_settings
        self._mtime = self._stat()
        self.last_error: str | None = None

    def _stat(self) -> float | None:
        try:
            return self.path.stat().st_mtime_ns / 1e9
        except OSError:
            return None

    def check(self) -> DistrictConfig | None:
        """Reload if the file changed since the last look; return the new config if applied."""
        mtime = self._stat()
        if mtime is None or mtime == self._mtime:
            return None
        self._mtime = mtime
        try:
            config = load_config(self.path)
        except ConfigError as e:
            self.last_error = str(e)
            log.error(
                "config %s changed but is invalid, keeping the running one:\n%s", self.path, e
            )
            return None
        self.last_error = None
        self.store.settings = config.settings
        counts = self.store.sync_config(config, datetime.now(UTC))
        if self.on_settings is not None:
            self.on_settings(config.settings)
        log.info("config %s reloaded: %s", self.path, counts)
        return config
