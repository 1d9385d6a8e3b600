"""`sipande import-sites`: CSV and .xlsx site lists matched to the shipped config, and the
districts file rewritten with only the matched url values changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from aggregator.cli import main
from aggregator.errors import ConfigError
from aggregator.onboarding.yaml_edit import set_urls, update_config_file
from aggregator.settings import load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config" / "districts.yaml"
SITES_CSV = ROOT / "tests" / "fixtures" / "ops" / "sites.csv"

# What tests/fixtures/ops/sites.csv should set (the other rows are reported, not applied).
CSV_URLS = {
    "33.03.01.2001": "https://kedungbenda.desa.id/",
    "33.03.01.2002": "https://bokol.desa.id/",  # by name, bare host: https:// added
    "33.03.01.2004": "http://majatengah.desa.id/",  # code without dots
    "33.03.18.2009": "https://karangtengah-kertanegara.desa.id/",  # "Desa Karang Tengah"
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "districts.yaml"
    shutil.copyfile(SHIPPED, path)
    return path


def sipande(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def without_url_value(line: str) -> tuple[str, str]:
    head, _, rest = line.partition("url: ")
    return head, rest.partition(", ")[2]


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_csv_import_reports_every_row_and_changes_only_those_url_values(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = config.read_text(encoding="utf-8")
    code, out, _ = sipande(capsys, "import-sites", str(SITES_CSV), "--config", str(config))
    assert code == 0, out
    assert "matched: 4 (4 new urls, 0 changed)" in out
    assert "row 4: Pelumutann" in out
    assert "not matched, did you mean Pelumutan (33.03.01.2003, Kemangkon)?" in out
    assert "ambiguous: Karangtengah (33.03.01.2014, Kemangkon) and Karangtengah" in out
    assert "duplicates: 1" in out and "first at row 2" in out
    assert "unknown codes: 1" in out and "33.03.99.2001 is not a village" in out
    assert "invalid urls: 1" in out and "ftp://wirasaba.desa.id/" in out
    after = config.read_text(encoding="utf-8")
    # Comments and every untouched line are byte for byte the same; changed lines differ
    # only in their url value.
    changes = changed_lines(before, after)
    assert len(changes) == len(CSV_URLS)
    for old, new in changes:
        assert 'url: ""' in old and without_url_value(old) == without_url_value(new)
    assert after.splitlines()[:4] == before.splitlines()[:4]
    assert all(line.startswith("#") for line in after.splitlines()[:4])
    urls = {v.code: v.url for v in load_config(config).villages}
    assert {c: u for c, u in urls.items() if u} == CSV_URLS


def test_dry_run_changes_nothing(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = config.read_bytes()
    code, out, _ = sipande(
        capsys, "import-sites", str(SITES_CSV), "--config", str(config), "--dry-run"
    )
    assert code == 0
    assert "matched: 4" in out and "Dry run" in out
    assert config.read_bytes() == before


def test_a_second_import_finds_everything_unchanged(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sipande(capsys, "import-sites", str(SITES_CSV), "--config", str(config))[0] == 0
    written = config.read_bytes()
    code, out, _ = sipande(capsys, "import-sites", str(SITES_CSV), "--config", str(config))
    assert code == 0
    assert "matched: 0" in out and "unchanged: 4" in out and "Nothing to change" in out
    assert config.read_bytes() == written


def test_xlsx_with_a_title_row_numeric_codes_and_conflicting_duplicates(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Daftar situs desa Kabupaten Purbalingga"])  # a title above the header
    sheet.append(["No", "Kode Desa", "Nama Desa", "Kecamatan", "Alamat Website"])
    sheet.append([1, 3303022001, "Tidu", "Bukateja", "https://tidu.desa.id"])
    sheet.append([2, None, "Wirasaba", "Bukateja", "https://wirasaba.desa.id/"])
    sheet.append([3, None, "Kembangen", "Bukateja", "https://kembangan.desa.id/"])  # typo
    sheet.append([4, "33.03.02.2004", "", "", "https://one.desa.id/"])
    sheet.append([5, "33.03.02.2004", "", "", "https://another.desa.id/"])  # conflicts with 4
    sheet.append([6, 3303992001, "Entah", "", "https://entah.desa.id/"])  # unknown code
    sheet.append([7, "33.03.02.2001", "Tidu", "", "https://tidu.desa.id/"])  # duplicate
    path = tmp_path / "situs.xlsx"
    book.save(path)
    before = config.read_text(encoding="utf-8")

    code, out, _ = sipande(capsys, "import-sites", str(path), "--config", str(config))
    assert code == 0, out
    assert "matched: 2 (2 new urls, 0 changed)" in out
    assert "row 5: Kembangen (kecamatan Bukateja): not matched, did you mean Kembangan" in out
    assert "duplicates: 2" in out and "neither is applied" in out
    assert "33.03.99.2001 is not a village" in out
    urls = {v.code: v.url for v in load_config(config).villages if v.url}
    assert urls == {
        "33.03.02.2001": "https://tidu.desa.id/",
        "33.03.02.2002": "https://wirasaba.desa.id/",
    }
    assert len(changed_lines(before, config.read_text(encoding="utf-8"))) == 2


def test_unreadable_list_and_bad_config_exit_2_without_writing(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = config.read_bytes()
    no_header = tmp_path / "x.csv"
    no_header.write_text("a,b\n1,2\n", encoding="utf-8")
    code, _, err = sipande(capsys, "import-sites", str(no_header), "--config", str(config))
    assert code == 2 and "no header row" in err
    code, _, err = sipande(capsys, "import-sites", str(tmp_path / "x.ods"), "--config", str(config))
    assert code == 2 and "unsupported file type" in err
    assert config.read_bytes() == before
    bad = tmp_path / "bad.yaml"
    bad.write_text("kabupaten: {code: 33}\n", encoding="utf-8")
    code, _, err = sipande(capsys, "import-sites", str(SITES_CSV), "--config", str(bad))
    assert code == 2 and "invalid config" in err


def test_an_invalid_result_is_never_written(config: Path) -> None:
    before = config.read_bytes()
    with pytest.raises(ConfigError, match="contains whitespace"):
        update_config_file(config, {"33.03.01.2001": "https://kedung benda.desa.id/"})
    with pytest.raises(ConfigError, match="not in the file"):
        update_config_file(config, {"33.03.99.2001": "https://x.desa.id/"})
    assert config.read_bytes() == before
    assert not list(config.parent.glob(".districts.yaml.*"))  # no temporary file left over


def test_block_style_villages_crlf_and_missing_or_empty_url_keys() -> None:
    text = (
        "# top comment\r\n"
        'kabupaten: {code: "33.03", name: Purbalingga}\r\n'
        "kecamatan:\r\n"
        '  - code: "33.03.01"\r\n'
        "    name: Kemangkon\r\n"
        "    villages:\r\n"
        '      - code: "33.03.01.2001"   # Kedungbenda\r\n'
        "        name: Kedungbenda\r\n"
        "        url:\r\n"
        "        platform: auto  # keep me\r\n"
        '      - code: "33.03.01.2002"\r\n'
        "        name: Bokol\r\n"
        "        platform: opensid  # no url key at all\r\n"
        '      - {code: "33.03.01.2003", name: Pelumutan}\r\n'
        "      - {code: \"33.03.01.2004\", name: Majatengah, url: 'http://old.example/'}\r\n"
    )
    urls = {
        "33.03.01.2001": "https://kedungbenda.desa.id/",
        "33.03.01.2002": "https://bokol.desa.id/",
        "33.03.01.2003": "https://pelumutan.desa.id/",
        "33.03.01.2004": "https://majatengah.desa.id/",
    }
    updated = set_urls(text, urls)
    config = parse_config(updated)
    assert {v.code: v.url for v in config.villages} == urls
    assert "\n" not in updated.replace("\r\n", "")  # still CRLF everywhere
    lines = updated.split("\r\n")
    assert lines[0] == "# top comment"
    assert lines[8] == '        url: "https://kedungbenda.desa.id/"'
    assert lines[9] == "        platform: auto  # keep me"
    assert lines[12] == "        platform: opensid  # no url key at all"
    assert lines[13] == '        url: "https://bokol.desa.id/"'
    assert lines[14].endswith('name: Pelumutan, url: "https://pelumutan.desa.id/"}')
    assert lines[15].endswith('url: "https://majatengah.desa.id/"}')
