"""`sipande import-opendk` against an OpenDK-shaped JSON:API served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aggregator.cli import main
from aggregator.settings import load_config
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[1]

# Kecamatan Kemangkon as its OpenDK would list it (docs/design.md), over two pages.
DESA = [
    {"desa_id": "33.03.01.2001", "kode_desa": "3303012001", "nama": "Kedungbenda",
     "website": "https://kedungbenda.desa.id"},
    {"desa_id": "33.03.01.2002", "kode_desa": "33.03.01.2002", "nama": "Bokol", "website": None},
    {"desa_id": "33.03.01.2003", "kode_desa": None, "nama": "Pelumutan",
     "website": "http://pelumutan.desa.id/"},
    {"desa_id": "33.03.01.2099", "kode_desa": "33.03.01.2099", "nama": "Desa Baru",
     "website": "https://baru.desa.id/"},
    {"desa_id": "33.03.01.2004", "kode_desa": "33.03.01.2004", "nama": "Majatengah",
     "website": "majatengah.desa.id"},
]  # fmt: skip
PER_PAGE = 3


def desa_page(request: Request) -> JSONResponse:
    number = int(request.query_params.get("page[number]", "1"))
    items = DESA[(number - 1) * PER_PAGE : number * PER_PAGE]
    total_pages = -(-len(DESA) // PER_PAGE)
    links: dict[str, Any] = {"self": str(request.url)}
    if number < total_pages:
        links["next"] = str(request.url.include_query_params(**{"page[number]": number + 1}))
    return JSONResponse(
        {
            "data": [
                {"type": "desa", "id": str(i), "attributes": {**item, "luas_wilayah": 1.5}}
                for i, item in enumerate(items, start=(number - 1) * PER_PAGE + 1)
            ],
            "meta": {"pagination": {"current_page": number, "total_pages": total_pages}},
            "links": links,
        },
        media_type="application/vnd.api+json",
    )


@pytest.fixture(scope="module")
def opendk() -> Iterator[str]:
    app = Starlette(routes=[Route("/api/frontend/v1/desa", desa_page)])
    with LiveServer(app) as server:
        yield server.url


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "districts.yaml"
    text = (ROOT / "config" / "districts.yaml").read_text(encoding="utf-8")
    # The OpenDK of these tests listens on loopback, which the guard refuses by default.
    allow = text.replace("allow_private_addresses: false", "allow_private_addresses: true")
    assert allow != text
    path.write_text(allow, encoding="utf-8")
    return path


def test_import_maps_by_official_code_across_pages(
    opendk: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = config.read_text(encoding="utf-8")
    assert main(["import-opendk", opendk, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"OpenDK {opendk}/api/frontend/v1/desa: 5 rows" in out
    assert "matched: 3 (3 new urls, 0 changed)" in out
    assert "33.03.01.2099 is not a village" in out  # unknown code, reported
    assert "rows without a url (skipped): 1" in out  # Bokol has no website
    urls = {v.code: v.url for v in load_config(config).villages if v.url}
    assert urls == {
        "33.03.01.2001": "https://kedungbenda.desa.id/",
        "33.03.01.2003": "http://pelumutan.desa.id/",  # desa_id when kode_desa is empty
        "33.03.01.2004": "https://majatengah.desa.id/",
    }
    after = config.read_text(encoding="utf-8").splitlines()
    assert after[:4] == before.splitlines()[:4]  # the comments at the top
    assert sum(a != b for a, b in zip(after, before.splitlines(), strict=True)) == 3


def test_dry_run_and_an_unreachable_listing_change_nothing(
    opendk: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = config.read_bytes()
    listing = f"{opendk}/api/frontend/v1/desa"
    assert main(["import-opendk", listing, "--config", str(config), "--dry-run"]) == 0
    assert "Dry run" in capsys.readouterr().out
    assert main(["import-opendk", f"{opendk}/nothing/api/x", "--config", str(config)]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert config.read_bytes() == before
