"""Serve pages recorded from a real OpenSID (tests/fixtures/opensid_real) on loopback, as the
release served them: same paths, statuses and content types, links pointing at the replay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import RawServer, response

REAL = Path(__file__).parent / "fixtures" / "opensid_real"
# (folder, index file) of every recording of a whole site.
RECORDINGS = {
    "2410-natra": ("2410/filled/natra", "index.json"),
    "2410-esensi": ("2410/filled/esensi", "index.json"),
    "2410-empty-natra": ("2410/empty/natra", "index.json"),
    "2410-fresh-natra": ("2410/fresh/natra", "index.json"),  # no web menu rows yet
    # 74 published articles: an archive of four pages (truth.json beside the themes)
    "2410-catalogue-natra": ("2410/catalogue/natra", "index.json"),
    "2410-catalogue-esensi": ("2410/catalogue/esensi", "index.json"),
    "2312-catalogue": ("2312/catalogue", "index.json"),  # 60 published, artikel.tsv beside
    "2312": ("2312", "responses.json"),
    "2310": ("2310", "responses.json"),
}
_KEEP_HEADERS = {"content-type", "set-cookie", "location"}


def truth(name: str) -> dict[str, object]:
    """The recording's truth.json: its own folder's (or its theme's parent's), else its
    release's."""
    folder = REAL / RECORDINGS[name][0]
    for place in (folder, folder.parent, REAL / RECORDINGS[name][0].split("/")[0]):
        if (place / "truth.json").exists():
            return json.loads((place / "truth.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    raise FileNotFoundError(f"no truth.json for {name}")


class Replay:
    """`async with Replay("2410-natra") as site:` then poll `site.url`."""

    def __init__(self, name: str, edit: Callable[[str, bytes], bytes] | None = None) -> None:
        """`edit(path, body)`: the body to serve instead of the recorded one."""
        self.edit = edit
        folder, index = RECORDINGS[name]
        self.root = REAL / folder
        entries = json.loads((self.root / index).read_text(encoding="utf-8"))
        first = next(iter(entries.values()))["url"]
        self.recorded_base = "{0.scheme}://{0.netloc}".format(urlsplit(first))
        self.pages: dict[str, dict[str, object]] = {}
        for entry in entries.values():
            parts = urlsplit(entry["url"])
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if entry.get("ajax") or path in self.pages:
                continue
            self.pages[path] = entry
        self.requests: list[str] = []
        self._server = RawServer(self._serve)

    @property
    def url(self) -> str:
        return self._server.url + "/"

    async def __aenter__(self) -> Replay:
        await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.__aexit__(*exc)

    async def _serve(
        self, method: str, path: str, headers: dict[str, str], w: asyncio.StreamWriter
    ) -> None:
        self.requests.append(path)
        entry = self.pages.get(path)
        if entry is None and path.endswith("/") and path != "/":
            entry = self.pages.get(path.rstrip("/"))
        if entry is None:  # CodeIgniter routes a path with or without index.php/ alike
            other = path.removeprefix("/index.php") if path.startswith("/index.php/") else None
            entry = self.pages.get(other or "/index.php" + path)
        if entry is None:
            w.write(response(404, b"<h1>404 Page Not Found</h1>", {"content-type": "text/html"}))
            return
        body = (self.root / str(entry["file"])).read_bytes()
        body = body.replace(self.recorded_base.encode(), self._server.url.encode())
        if self.edit is not None:
            body = self.edit(path, body)
        kept: dict[str, str] = {}
        for name, value in entry["headers"]:  # type: ignore[attr-defined]
            if name.lower() in _KEEP_HEADERS and name.lower() not in kept:
                kept[name.lower()] = value.replace(self.recorded_base, self._server.url)
        w.write(response(int(entry["status"]), body, kept))  # type: ignore[call-overload]
