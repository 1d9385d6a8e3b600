"""A real browser (Debian's chromium, headless) through overview → kecamatan → village → news
search → export, asserting what a person sees; screenshots go to test-artifacts/browser/.

Without chromium this skips, unless SIPANDE_REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.decide.status import STATUS_LABELS
from aggregator.store import Store
from aggregator.web import create_app
from tests.conftest import LiveServer
from tests.test_web import STORED_TITLE, news_village, polled_store

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "apt-get install -y chromium chromium-driver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
Polled = tuple[Store, dict[str, str]]


def _unavailable(reason: str) -> None:
    if os.environ.get("SIPANDE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SIPANDE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (set SIPANDE_REQUIRE_BROWSER=1 to make this a failure)")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(Path(path).name)):
            _unavailable(f"{path} is missing; install it with `{INSTALL}`")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--disable-dev-shm-usage", "--lang=id",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    service = Service(executable_path=shutil.which("chromedriver") or CHROMEDRIVER)
    browser = webdriver.Chrome(service=service, options=options)
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    browser.downloads = downloads  # type: ignore[attr-defined]
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    tuple[str, Polled]
]:  # fmt: skip
    polled = polled_store(request, tmp_path_factory)
    app = create_app(polled[0].settings, store=polled[0], run_scheduler=False)
    with LiveServer(app) as server:
        yield server.url, polled


def screenshot(browser: Any, name: str, width: int) -> Path:
    """The whole page at `width` css pixels, for a person to look at after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(width, 900)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(int(height) + 140, 7000))
    path = ARTIFACTS / f"{name}.png"
    assert browser.save_screenshot(str(path)), path
    browser.set_window_size(width, 900)
    return path


def visible_text(browser: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.TAG_NAME, "body").text)


def wait_for_download(folder: Path, suffix: str, timeout: float = 15) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
        if done and not any(p.name.endswith(".crdownload") for p in folder.iterdir()):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} download in {folder}: {list(folder.iterdir())}")


def test_overview_to_export_as_a_person_would(driver: Any, site: tuple[str, Polled]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, (store, _) = site
    active = news_village(store)
    kec = store.kecamatan(active["kecamatan_code"])
    assert kec is not None
    driver.set_window_size(1280, 900)

    # Overview: the headline, the status cards, the kecamatan table, the attention list.
    driver.get(base + "/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Ringkasan Sistem Informasi Desa"
    text = visible_text(driver)
    for expected in (
        "Tren desa aktif",
        "Per kecamatan",
        "Desa perlu perhatian",
        "Tidak terjangkau",
    ):
        assert expected in text, expected
    chart = driver.find_element(By.CSS_SELECTOR, "figure.chart-box svg")
    assert chart.size["width"] > 300 and chart.size["height"] > 50  # drawn, not an empty box
    screenshot(driver, "1-ringkasan-desktop", 1280)
    # Keyboard users get the skip link first.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Lewati ke konten utama"

    # Kecamatan page, reached by clicking its name.
    driver.find_element(By.LINK_TEXT, kec["name"]).click()
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith(f"Kecamatan {kec['name']}")
    rows = driver.find_elements(By.CSS_SELECTOR, "table#villages tbody tr")
    assert [r.get_attribute("data-village") for r in rows] == [active["code"]]
    assert "Layanan tiap desa" in visible_text(driver)
    assert (
        f"Menampilkan 1–20 dari {active['news_count']} berita"
        in driver.find_element(By.ID, "news-count").text
    )
    screenshot(driver, "2-kecamatan-desktop", 1280)

    # Village page: score with its components, the history charts, the checks.
    driver.find_element(By.LINK_TEXT, active["name"]).click()
    assert active["name"] in driver.find_element(By.TAG_NAME, "h1").text
    text = visible_text(driver)
    for expected in ("Skor keaktifan", "Kebaruan", "Keteraturan", "Riwayat pemeriksaan", "WIB"):
        assert expected in text, expected
    assert len(driver.find_elements(By.CSS_SELECTOR, "figure.chart-box svg")) == 3
    screenshot(driver, "3-desa-desktop", 1280)

    # Back to the kecamatan through the breadcrumb, and search its news.
    driver.find_element(By.LINK_TEXT, f"Kecamatan {kec['name']}").click()
    box = driver.find_element(By.NAME, "q")
    box.send_keys("skor < 0,8")
    box.send_keys(Keys.ENTER)
    count = driver.find_element(By.ID, "news-count")
    assert "dari 1 berita" in count.text, count.text
    titles = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "ul.news .title")]
    assert titles == [STORED_TITLE]
    screenshot(driver, "4-pencarian-berita-desktop", 1280)

    # Export what the search found, as a person would: click the CSV link, open the file.
    driver.find_element(
        By.CSS_SELECTOR, "p.actions[data-exports$='/berita'] a[href*='.csv']"
    ).click()
    downloaded = wait_for_download(driver.downloads, ".csv")
    with downloaded.open(encoding="utf-8-sig", newline="") as f:
        rows_in_file = list(csv.DictReader(f))
    assert [r["Judul"] for r in rows_in_file] == titles

    # A phone: the page fits the width (wide tables scroll inside their own box).
    driver.set_window_size(390, 844)
    driver.get(f"{base}/kecamatan/{kec['code']}")
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"page is {overflow}px wider than a phone screen"
    assert driver.find_element(By.TAG_NAME, "h1").is_displayed()
    screenshot(driver, "5-kecamatan-ponsel", 390)
    driver.get(base + "/laporan/tidak-aktif")
    assert "Laporan desa tidak aktif" in driver.find_element(By.TAG_NAME, "h1").text
    screenshot(driver, "6-laporan-tidak-aktif-ponsel", 390)
    for name in ("1-ringkasan-desktop", "5-kecamatan-ponsel"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000


@pytest.fixture
def first_morning(tmp_path: Path) -> Iterator[tuple[str, Store, Path, list[str]]]:
    """The shipped config (loopback allowed, a fast dispatcher: the test's only changes), an
    empty store, a Dinkominfo account, the app with its scheduler, and two live sites."""
    from aggregator.access.auth import hash_password
    from aggregator.settings import parse_config
    from tests.conftest import FleetThread

    shipped = Path(__file__).resolve().parents[1] / "config" / "districts.yaml"
    text = shipped.read_text(encoding="utf-8")
    text = text.replace("allow_private_addresses: false", "allow_private_addresses: true\n"
                        "  dispatch_interval: 1s", 1)  # fmt: skip
    config_path = tmp_path / "districts.yaml"
    config_path.write_text(text, encoding="utf-8")
    config = parse_config(text, str(config_path))
    store = Store(f"sqlite:///{tmp_path}/sipande.db", config.settings)
    store.migrate()
    now = datetime.now(UTC)
    store.sync_config(config, now)
    store.add_user("dinkominfo", hash_password(MORNING_PASSWORD), "dinkominfo", None, now)
    with FleetThread(n=12, seed=3) as fleet:
        active = [v.code for v in fleet.fleet.villages if v.behaviour == "active"][:2]
        urls = [fleet.fleet.url(code) for code in active]
        app = create_app(config.settings, store=store, config_path=str(config_path))
        with LiveServer(app) as server:
            yield server.url, store, config_path, urls
    store.close()


MORNING_PASSWORD = "pagi-pertama-2026"


def arrive(browser: Any, css: str, timeout: float = 15) -> Any:
    """The element once the page that has it is loaded (a form post navigates after the
    click has returned)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def test_first_morning_template_upload_apply_and_poll(
    driver: Any, first_morning: tuple[str, Store, Path, list[str]], tmp_path: Path
) -> None:
    """From the shipped config: download the template, fill two urls, upload, read the dry
    run, apply, and the two villages are polled."""
    import openpyxl
    from selenium.webdriver.common.by import By

    base, store, config_path, urls = first_morning
    codes = ["33.03.01.2001", "33.03.18.2005"]
    driver.set_window_size(1280, 900)
    driver.get(base + "/")
    panel = driver.find_element(By.ID, "mulai")
    assert "239 dari 239 desa/kelurahan belum punya alamat situs" in panel.text
    screenshot(driver, "7-mulai-ringkasan", 1280)

    driver.get(base + "/masuk")
    driver.find_element(By.NAME, "username").send_keys("dinkominfo")
    driver.find_element(By.NAME, "password").send_keys(MORNING_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    arrive(driver, "#ke-mulai a").click()
    assert arrive(driver, "#form-unggah") and driver.find_element(By.TAG_NAME, "h1").text == (
        "Mulai: alamat situs desa"
    )
    for old in driver.downloads.glob("*.xlsx"):
        old.unlink()
    driver.find_element(By.ID, "unduh-templat").click()
    template = wait_for_download(driver.downloads, ".xlsx")

    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    filled = 0
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in codes:
            row[3].value = urls[codes.index(str(row[0].value))]
            filled += 1
    assert filled == 2 and sheet.max_row == 240
    upload = tmp_path / "situs-terisi.xlsx"
    book.save(upload)
    before = config_path.read_bytes()

    driver.find_element(By.CSS_SELECTOR, "input[type=file][name=berkas]").send_keys(str(upload))
    driver.find_element(By.CSS_SELECTOR, "#form-unggah button[type=submit]").click()
    summary = arrive(driver, "#laporan-ringkas").text
    assert summary.startswith("2 desa akan diberi alamat (2 baru, 0 berubah) dari 239 baris")
    planned = driver.find_elements(By.CSS_SELECTOR, "table#rencana tbody tr")
    assert sorted(r.get_attribute("data-village") for r in planned) == codes
    assert config_path.read_bytes() == before  # the dry run wrote nothing
    screenshot(driver, "8-mulai-laporan-uji", 1280)

    driver.find_element(By.CSS_SELECTOR, "#terapkan button").click()
    assert "Konfigurasi ditulis: 2 alamat situs desa diisi" in arrive(driver, "#pesan").text
    assert config_path.read_text(encoding="utf-8").count('url: "http://127.0.0.1') == 2

    deadline = time.monotonic() + 30  # the app's own dispatcher polls them
    checked: dict[str, Any] = {}
    while time.monotonic() < deadline:
        checked = {v["code"]: v for v in store.list_villages() if v["code"] in codes}
        if all(v["last_checked_at"] and v["last_check_ok"] for v in checked.values()):
            break
        time.sleep(0.5)
    assert all(v["last_checked_at"] and v["last_check_ok"] for v in checked.values()), checked
    driver.get(f"{base}/desa/{codes[0]}")
    text = visible_text(driver)
    assert "Belum ada situs" not in text and "Riwayat pemeriksaan" in text
    screenshot(driver, "9-mulai-desa-diperiksa", 1280)


def test_region_maps_as_a_person_sees_them(driver: Any, site: tuple[str, Polled]) -> None:
    from selenium.webdriver.common.by import By

    base, (store, _) = site
    villages = {v["code"]: v for v in store.list_villages()}
    driver.set_window_size(1280, 900)
    driver.get(base + "/")
    svg = driver.find_element(By.CSS_SELECTOR, "svg.map")
    assert svg.size["width"] > 600 and svg.size["height"] > 400  # drawn, not an empty box
    regions = driver.find_elements(By.CSS_SELECTOR, "svg.map a")
    hrefs = {a.get_dom_attribute("href") for a in regions}
    assert hrefs == {f"/desa/{code}" for code in villages}  # every village is a link
    for a in regions:
        code = a.get_attribute("data-code")
        v = villages[code]
        assert a.accessible_name == f"{v['name']}: {STATUS_LABELS[v['status']]}"
        path = a.find_element(By.TAG_NAME, "path")
        assert path.size["width"] > 0 and path.size["height"] > 0
        assert path.value_of_css_property("fill") != "rgb(0, 0, 0)"  # coloured by the sheet
    legend = driver.find_element(By.CSS_SELECTOR, ".map-legend").text
    assert "Aktif" in legend and "Tidak terjangkau" in legend
    driver.set_window_size(1280, 1500)  # the whole map in view for its own screenshot
    figure = driver.find_element(By.CSS_SELECTOR, "figure.map-figure")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert figure.screenshot(str(ARTIFACTS / "7-peta-ringkasan.png"))
    driver.set_window_size(1280, 900)

    # Switch the colouring with a plain link, then follow a village from the map.
    driver.find_element(By.LINK_TEXT, "Skor aktivitas SID").click()
    assert "peta=skor" in driver.current_url
    classes = {a.get_attribute("class") for a in driver.find_elements(By.CSS_SELECTOR, "svg.map a")}
    assert classes and all(c.startswith("m-b") or c == "m-none" for c in classes)
    first = driver.find_element(By.CSS_SELECTOR, "svg.map a")
    code = first.get_attribute("data-code")
    driver.get(base + first.get_dom_attribute("href"))
    assert villages[code]["name"] in driver.find_element(By.TAG_NAME, "h1").text

    # A kecamatan page: its villages named on the map, on a desktop and on a phone.
    kec = villages[code]["kecamatan_code"]
    driver.get(f"{base}/kecamatan/{kec}")
    names = {t.text for t in driver.find_elements(By.CSS_SELECTOR, "svg.map .map-labels text")}
    assert names == {v["name"] for v in villages.values() if v["kecamatan_code"] == kec}
    screenshot(driver, "8-peta-kecamatan-desktop", 1280)
    # On paper: the map and its legend stay, the colour switch goes.
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert driver.find_element(By.CSS_SELECTOR, "svg.map").is_displayed()
        assert driver.find_element(By.CSS_SELECTOR, ".map-legend").is_displayed()
        assert not driver.find_element(By.CSS_SELECTOR, ".map-modes").is_displayed()
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    driver.set_window_size(390, 844)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"page is {overflow}px wider than a phone screen"
    assert driver.find_element(By.CSS_SELECTOR, "svg.map").size["width"] <= 390
    for name in ("7-peta-ringkasan", "8-peta-kecamatan-desktop"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 20_000
