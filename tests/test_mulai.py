"""The "Mulai" page: from the shipped config, the template of every village, the filled file
uploaded (dry run first, then applied to the districts file with its comments kept, nothing
half-written), hostile uploads refused with a reason, and discover's proposals reviewed."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import openpyxl
import pytest
from argon2 import PasswordHasher

from aggregator.access import auth
from aggregator.access.auth import hash_password
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.web import create_app
from aggregator.web.exports import XLSX_TYPE
from tests.conftest import LiveServer

SHIPPED = Path(__file__).resolve().parents[1] / "config" / "districts.yaml"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')
PASSWORD = "kata-sandi-uji-123"
FIRST, SECOND = "33.03.01.2001", "33.03.18.2005"


@dataclass
class Site:
    url: str
    store: Store
    config: Path


@pytest.fixture(scope="module", autouse=True)
def fast_hashes() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    config_path = tmp_path / "districts.yaml"
    config_path.write_bytes(SHIPPED.read_bytes())
    config = parse_config(config_path.read_text(encoding="utf-8"), str(config_path))
    store = Store(f"sqlite:///{tmp_path}/sipande.db", config.settings)
    store.migrate()
    now = datetime.now(UTC)
    store.sync_config(config, now)
    store.add_user("admin", hash_password(PASSWORD), "dinkominfo", None, now)
    store.add_user("opa", hash_password(PASSWORD), "kecamatan", "33.03.01", now)
    app = create_app(store.settings, store=store, run_scheduler=False, config_path=str(config_path))
    with LiveServer(app) as server:
        yield Site(server.url, store, config_path)
    store.close()


OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def client(site: Site, username: str = "admin") -> httpx.Client:
    c = httpx.Client(base_url=site.url, timeout=20)
    OPEN.append(c)
    token = CSRF.search(c.get("/masuk").text)
    assert token
    resp = c.post("/masuk", data={"username": username, "password": PASSWORD, "csrf": token[1]})
    assert resp.status_code == 303, resp.text
    return c


def filled(template: bytes, urls: dict[str, object]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in urls:
            row[3].value = urls[str(row[0].value)]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(c: httpx.Client, data: bytes, name: str = "situs.xlsx") -> httpx.Response:
    token = CSRF.search(c.get("/admin/mulai").text)
    assert token
    return c.post(
        "/admin/mulai/unggah",
        data={"csrf": token[1]},
        files={"berkas": (name, data, XLSX_TYPE)},
    )


def test_overview_says_what_to_do_first(site: Site) -> None:
    home = httpx.get(site.url + "/").text
    assert "Mulai: isi alamat situs desa" in home and "239 dari 239" in home
    assert 'href="/admin/mulai"' in home


def test_template_upload_dry_run_apply(site: Site) -> None:
    c = client(site)
    assert 'href="/admin/mulai"' in c.get("/admin").text
    got = c.get("/admin/mulai/templat.xlsx")
    assert got.status_code == 200 and got.headers["content-type"] == XLSX_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Kode wilayah", "Desa/Kelurahan", "Kecamatan", "Alamat situs")
    assert len(rows) == 240 and rows[1] == ("33.03.01.2001", "Kedungbenda", "Kemangkon", None)
    before = site.config.read_bytes()
    urls = {FIRST: "https://kedungbenda.desa.id", SECOND: "http://desa-kedua.example"}
    report = upload(c, filled(got.content, urls))
    assert report.status_code == 200, report.text
    assert "Laporan uji" in report.text and "2</strong> desa akan diberi alamat" in report.text
    assert "matched: 2 (2 new urls, 0 changed)" in report.text  # as import-sites prints it
    assert site.config.read_bytes() == before  # a dry run writes nothing
    token = TOKEN.search(report.text)
    csrf = CSRF.search(report.text)
    assert token and csrf
    done = c.post("/admin/mulai/terapkan", data={"csrf": csrf[1], "token": token[1]})
    assert done.status_code == 303
    page = c.get(done.headers["location"]).text
    assert "Konfigurasi ditulis: 2 alamat situs desa diisi" in page
    after = site.config.read_text(encoding="utf-8")
    changed = [
        (a, b)
        for a, b in zip(before.decode().splitlines(), after.splitlines(), strict=True)
        if a != b
    ]
    assert len(changed) == 2 and all('url: "http' in b for _, b in changed), changed
    assert after.startswith("# Sipande district configuration")  # comments kept
    villages = {v["code"]: v for v in site.store.list_villages()}
    assert villages[FIRST]["url"] == "https://kedungbenda.desa.id/"
    assert villages[SECOND]["url"] == "http://desa-kedua.example/"
    due = {v.code for v in site.store.due_villages(datetime.now(UTC))}
    assert due == {FIRST, SECOND}  # polled at the next dispatch
    again = c.post("/admin/mulai/terapkan", data={"csrf": csrf[1], "token": token[1]})
    assert "kedaluwarsa" in c.get(again.headers["location"]).text  # a token applies once
    assert site.config.read_text(encoding="utf-8") == after


def test_a_config_edited_meanwhile_is_not_overwritten(site: Site) -> None:
    c = client(site)
    template = c.get("/admin/mulai/templat.xlsx").content
    report = upload(c, filled(template, {FIRST: "https://satu.desa.id"}))
    token, csrf = TOKEN.search(report.text), CSRF.search(report.text)
    assert token and csrf
    edited = site.config.read_text(encoding="utf-8") + "# edited by hand\n"
    site.config.write_text(edited, encoding="utf-8")
    done = c.post("/admin/mulai/terapkan", data={"csrf": csrf[1], "token": token[1]})
    assert "Tidak ditulis" in c.get(done.headers["location"]).text
    assert site.config.read_text(encoding="utf-8") == edited


def headed(template: bytes, url_header: str) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    book.worksheets[0]["D1"] = url_header
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return out.getvalue()


def test_hostile_uploads_are_reported_not_crashed(site: Site) -> None:
    c = client(site)
    template = c.get("/admin/mulai/templat.xlsx").content
    before = site.config.read_bytes()
    cases = {
        "a CSV": (b"code,url\n33.03.01.2001,https://x.desa.id\n", "situs.csv", "hanya berkas"),
        "not a zip": (b"PK\x03\x04 not really", "situs.xlsx", "bukan berkas Excel"),
        "a zip bomb": (_zip_bomb(), "situs.xlsx", "terlalu besar setelah dibuka"),
        "no header": (headed(template, "Alamat rumah"), "a.xlsx", "baris judul tidak"),
    }
    for what, (data, name, expected) in cases.items():
        resp = upload(c, data, name)
        assert resp.status_code == 400, (what, re.findall(r"laporan-ringkas.*", resp.text))
        assert expected in resp.text, (what, resp.text[-2000:])
    huge = upload(c, b"PK" + b"x" * (3 * 1024 * 1024))
    assert huge.status_code == 413 and "terlalu besar" in huge.text
    # Hostile cells: a formula (never evaluated), a date, a script url, 5000 characters.
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    sheet["D2"] = '=HYPERLINK("https://evil.example")'
    sheet["D3"] = datetime(2025, 1, 1)
    sheet["D4"] = "javascript:alert(1)"
    sheet["D5"] = "https://" + "a" * 5000 + ".desa.id"
    sheet["A6"] = "=1+1"
    sheet["D6"] = "https://enam.desa.id"
    out = io.BytesIO()
    book.save(out)
    resp = upload(c, out.getvalue())
    assert resp.status_code == 200
    # The formula code is not evaluated (read as empty): row 6 is matched by its name.
    assert "1</strong> desa akan diberi alamat" in resp.text
    assert 'data-village="33.03.01.2005"' in resp.text and "https://enam.desa.id/" in resp.text
    assert "Alamat tidak sah (3)" in resp.text and "[dipotong]" in resp.text
    assert "evil.example" not in resp.text and "<script" not in resp.text.lower()
    assert site.config.read_bytes() == before


def test_only_dinkominfo_and_only_with_the_csrf_token(site: Site) -> None:
    operator = client(site, "opa")
    assert operator.get("/admin/mulai").status_code == 403
    assert operator.get("/admin/mulai/templat.xlsx").status_code == 403
    anonymous = httpx.get(site.url + "/admin/mulai/templat.xlsx")
    assert anonymous.status_code == 303
    admin = client(site)
    forged = admin.post(
        "/admin/mulai/unggah",
        data={"csrf": "wrong"},
        files={"berkas": ("situs.xlsx", b"PK", XLSX_TYPE)},
    )
    assert forged.status_code == 403


def test_discover_proposals_go_through_the_same_dry_run(site: Site) -> None:
    review = site.config.parent / "review.csv"
    review.write_text(
        "code,name,kecamatan,candidate,evidence,confidence\n"
        f"{FIRST},Kedungbenda,Kemangkon,https://kedungbenda.desa.id,title names the village,high\n"
        f"33.03.01.2002,Bokol,Kemangkon,https://bokol.desa.id,<b>answers</b>,low\n",
        encoding="utf-8",
    )
    c = client(site)
    page = c.get("/admin/mulai").text
    assert "https://bokol.desa.id" in page and "&lt;b&gt;answers&lt;/b&gt;" in page
    token = CSRF.search(page)
    assert token
    report = c.post("/admin/mulai/usulan", data={"csrf": token[1], "keyakinan": "high"})
    assert report.status_code == 200
    assert "1</strong> desa akan diberi alamat" in report.text
    assert (
        'data-village="33.03.01.2002"'
        not in report.text.split('id="rencana"')[1].split("</table>")[0]
    )


def test_discover_runs_in_the_background_for_one_kecamatan(tmp_path: Path) -> None:
    import time

    from aggregator.onboarding.resolve import StaticResolver
    from aggregator.web.mulai import MulaiState
    from tests.conftest import FleetThread

    with FleetThread(n=24, seed=5) as ft:
        fleet = ft.fleet
        village = next(v for v in fleet.villages if v.behaviour == "active")
        host = re.sub(r"[^a-z0-9]", "", village.name.lower())
        config_path = tmp_path / "districts.yaml"
        config_path.write_text(re.sub(r'url: "[^"]*"', 'url: ""', fleet.config_yaml()), "utf-8")
        other = next(v for v in fleet.villages if v.kecamatan_code != village.kecamatan_code)
        (tmp_path / "review.csv").write_text(
            "code,name,kecamatan,candidate,evidence,confidence\n"
            f"{other.code},{other.name},x,http://kept.desa.id/,earlier run,low\n",
            encoding="utf-8",
        )
        config = parse_config(config_path.read_text("utf-8"), str(config_path))
        store = Store(f"sqlite:///{tmp_path}/sipande.db", config.settings)
        store.migrate()
        now = datetime.now(UTC)
        store.sync_config(config, now)
        store.add_user("admin", hash_password(PASSWORD), "dinkominfo", None, now)
        app = create_app(store.settings, store=store, run_scheduler=False,
                         config_path=str(config_path))  # fmt: skip
        state = app.state.mulai = MulaiState()
        state.discovery.resolver = StaticResolver.from_urls(
            {f"http://{host}.desa.id/": fleet.url(village.code)}
        )
        with LiveServer(app) as server:
            c = client(Site(server.url, store, config_path))
            token = CSRF.search(c.get("/admin/mulai").text)
            assert token
            started = c.post(
                "/admin/mulai/telusuri",
                data={"csrf": token[1], "kecamatan": village.kecamatan_code},
            )
            assert "Penelusuran dimulai" in c.get(started.headers["location"]).text
            deadline = time.monotonic() + 60
            while state.discovery.running and time.monotonic() < deadline:
                time.sleep(0.2)
            page = c.get("/admin/mulai").text
            assert "selesai: 1 usulan untuk 1 desa" in page, state.discovery.message
            assert f"http://{host}.desa.id/" in page and "http://kept.desa.id/" in page
            token = CSRF.search(page)
            assert token
            report = c.post("/admin/mulai/usulan", data={"csrf": token[1], "keyakinan": "medium"})
            assert "1</strong> desa akan diberi alamat" in report.text
            token, csrf = TOKEN.search(report.text), CSRF.search(report.text)
            assert token and csrf
            c.post("/admin/mulai/terapkan", data={"csrf": csrf[1], "token": token[1]})
        store.close()
    urls = {v.code: v.url for v in parse_config(config_path.read_text("utf-8")).villages if v.url}
    assert urls == {village.code: f"http://{host}.desa.id/"}
