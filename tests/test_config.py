"""The districts file: the shipped one is complete and valid; bad files are refused clearly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from aggregator.errors import ConfigError
from aggregator.settings import PLATFORMS, load_config, parse_config, parse_duration
from connectors import CONNECTORS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config" / "districts.yaml"

GOOD = """\
kabupaten: {code: "33.03", name: Purbalingga}
settings:
  poll_interval: 15m
  request_timeout: 10s
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {code: "33.03.01.2001", name: Kedungbenda, url: "https://kedungbenda.example.id/"}
      - {code: "33.03.01.2002", name: Bokol, url: "", platform: opensid}
  - code: "33.03.02"
    name: Bukateja
    villages:
      - code: "33.03.02.1001"
        name: Bukateja
        url: http://bukateja.example.id
"""


def test_shipped_config_lists_every_purbalingga_village_from_the_reference_data() -> None:
    config = load_config(SHIPPED)
    with (ROOT / "fleet/data/purbalingga_wilayah.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(config.kecamatan) == 18
    assert len(config.villages) == 239 == len(rows)
    by_code = {v.code: v for v in config.villages}
    for row in rows:
        village = by_code[row["kode_desa"]]
        assert village.name == row["nama_desa"]
        assert village.type == row["jenis"]
        assert village.kecamatan_code == row["kode_kecamatan"]
    assert sum(v.type == "kelurahan" for v in config.villages) == 15
    assert (SHIPPED.parent / "LICENSE-wilayah.txt").read_text().startswith("MIT License")


def test_every_platform_has_a_connector() -> None:
    assert set(PLATFORMS) <= set(CONNECTORS)


def test_good_config_parses_with_settings_and_types() -> None:
    config = parse_config(GOOD, "good.yaml")
    assert config.settings.poll_interval == 900
    assert config.settings.request_timeout == 10
    assert config.settings.concurrency == 64  # default kept
    kedungbenda, bokol, bukateja = config.villages
    assert kedungbenda.platform == "auto" and kedungbenda.type == "desa"
    assert bokol.url == "" and bokol.platform == "opensid"
    assert bukateja.type == "kelurahan"  # code suffix 1xxx
    assert bukateja.line == 14


@pytest.mark.parametrize(
    ("change", "line", "needle"),
    [
        (("33.03.01.2002", "33.03.01.2001"), 10, "duplicate code 33.03.01.2001 (first at line 9)"),
        (
            ("33.03.02.1001", "33.03.01.1001"),
            14,
            "33.03.01.1001 is not under its kecamatan 33.03.02",
        ),
        (("platform: opensid", "platform: joomla"), 10, "unknown platform 'joomla'"),
        (('"https://kedungbenda.example.id/"', "ftp://x.example"), 9, "must start with http"),
        (("url: http://bukateja.example.id", "url: http://"), 16, "has no host name"),
        (("poll_interval: 15m", "poll_interval: soon"), 3, "settings.poll_interval"),
        (('"33.03.02"', '"33.04.02"'), 11, "not under kabupaten 33.03"),
        (("name: Bokol,", "nama: Bokol,"), 10, "unknown field"),
    ],
)
def test_bad_config_names_file_line_and_field(
    change: tuple[str, str], line: int, needle: str
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ConfigError) as info:
        parse_config(text, "bad.yaml")
    message = str(info.value)
    assert f"bad.yaml:{line}:" in message
    assert needle in message


def test_all_problems_are_reported_at_once() -> None:
    text = GOOD.replace("33.03.01.2002", "33.03.01.2001").replace(
        "platform: opensid", "platform: x"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "bad.yaml")
    assert len(info.value.problems) == 2


def test_invalid_yaml_and_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"bad.yaml:2: not valid YAML"):
        parse_config("kabupaten: {code: 1\nkecamatan: [", "bad.yaml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config("/nonexistent/districts.yaml")


def test_durations() -> None:
    assert parse_duration("30m") == 1800
    assert parse_duration("1.5h") == 5400
    assert parse_duration(45) == 45
    for bad in ("", "-1s", "0", "ten", True):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_first_read_spread_is_a_duration_or_zero() -> None:
    assert parse_config(GOOD).settings.first_read_spread == 6 * 3600  # the default

    def spread(value: str) -> float:
        text = GOOD.replace("settings:\n", f"settings:\n  first_read_spread: {value}\n")
        return parse_config(text, "spread.yaml").settings.first_read_spread

    assert spread("2h") == 7200 and spread("0") == 0 and spread("0s") == 0
    for bad in ("-1h", "false", "soon"):
        with pytest.raises(ConfigError, match=r"settings\.first_read_spread"):
            spread(bad)
