"""`sipande discover` against the simulated fleet: guessed `*.desa.id` names are pointed at
the fleet's loopback ports by a resolver table, so no DNS or internet is involved."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.cli import build_parser
from aggregator.cli.operators import cmd_discover
from aggregator.onboarding.discover import candidate_hosts
from aggregator.onboarding.resolve import StaticResolver
from aggregator.settings import parse_config
from tests.conftest import FleetThread

SERVED = ("active", "quiet", "abandoned", "never_posted", "slow")
PATTERNS = ("{d}.desa.id", "{d}-{k}.desa.id", "desa{d}.id")


def flat(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@pytest.fixture(scope="module")
def fleet() -> Iterator[FleetThread]:
    with FleetThread(n=24, seed=5) as ft:
        yield ft


def run(
    ft: FleetThread, tmp_path: Path, mapping: dict[str, str], *extra: str
) -> tuple[int, list[dict[str, str]], Path]:
    config = tmp_path / "districts.yaml"
    # The fleet's own config, with every address forgotten: discover has to find them.
    config.write_text(re.sub(r'url: "[^"]*"', 'url: ""', ft.fleet.config_yaml()), "utf-8")
    before = config.read_bytes()
    out = tmp_path / "review.csv"
    args = build_parser().parse_args(
        ["discover", "--config", str(config), "--out", str(out), "--timeout", "3", *extra]
    )
    code = cmd_discover(args, resolver=StaticResolver.from_urls(mapping))
    assert config.read_bytes() == before  # never the config
    with out.open(encoding="utf-8", newline="") as f:
        return code, list(csv.DictReader(f)), config


def test_proposes_the_address_of_every_simulated_site_and_none_for_the_others(
    fleet: FleetThread, tmp_path: Path
) -> None:
    ft = fleet.fleet
    expected: dict[str, str] = {}
    mapping: dict[str, str] = {}
    for i, v in enumerate(ft.villages):
        if v.behaviour == "down_500":  # answers, but with an error page: not proposed
            mapping[f"http://{flat(v.name)}.desa.id/"] = ft.url(v.code)
        if v.behaviour not in SERVED:
            continue
        host = PATTERNS[i % len(PATTERNS)].format(d=flat(v.name), k=flat(v.kecamatan_name))
        mapping[f"http://{host}/"] = ft.url(v.code)
        expected[v.code] = f"http://{host}/"
    # A decoy: the likely name of a village without a site answers with another village's
    # page. It names the other village, so it must not be proposed for this one.
    no_site = next(v for v in ft.villages if v.behaviour == "no_site")
    other = next(code for code in expected)
    mapping[f"http://{flat(no_site.name)}.desa.id/"] = ft.url(other)

    code, rows, _ = run(fleet, tmp_path, mapping)
    assert code == 0
    assert {r["code"]: r["candidate"] for r in rows} == expected
    assert len(rows) == len(expected)  # one row per village, none for the others
    for row in rows:
        village = next(v for v in ft.villages if v.code == row["code"])
        assert row["name"] == village.name and row["kecamatan"] == village.kecamatan_name
        assert f"names {village.type.capitalize()} {village.name}" in row["evidence"]
        if ft.expected_platform(village.code) == "opensid":
            assert row["confidence"] == "high" and "OpenSID" in row["evidence"]
        else:
            assert row["confidence"] in ("high", "medium"), row


def test_kecamatan_filter_and_the_review_file_imports_back(
    fleet: FleetThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ft = fleet.fleet
    village = next(v for v in ft.villages if v.behaviour == "active")
    neighbour = next(
        v
        for v in ft.villages
        if v.behaviour == "active" and v.kecamatan_code != village.kecamatan_code
    )
    mapping = {
        f"http://{flat(village.name)}.desa.id/": ft.url(village.code),
        f"http://{flat(neighbour.name)}.desa.id/": ft.url(neighbour.code),
    }
    code, rows, config = run(fleet, tmp_path, mapping, "--kecamatan", village.kecamatan_code)
    assert code == 0
    assert [(r["code"], r["candidate"]) for r in rows] == [
        (village.code, f"http://{flat(village.name)}.desa.id/")
    ]
    out = capsys.readouterr()
    assert "1 candidates for 1 villages" in out.out
    assert "discover: " in out.err  # plain progress lines when not on a terminal

    from aggregator.cli import main

    assert main(["import-sites", str(tmp_path / "review.csv"), "--config", str(config)]) == 0
    urls = {v.code: v.url for v in parse_config(config.read_text("utf-8")).villages if v.url}
    assert urls == {village.code: f"http://{flat(village.name)}.desa.id/"}


def test_candidate_patterns() -> None:
    config = parse_config(
        'kabupaten: {code: "33.03", name: Purbalingga}\n'
        'kecamatan: [{code: "33.03.01", name: Kemangkon, villages: '
        '[{code: "33.03.01.2014", name: Karang Tengah}]}]\n'
    )
    hosts = candidate_hosts(config.villages[0], "Kemangkon", "Purbalingga")
    assert hosts[:2] == ["karangtengah.desa.id", "karang-tengah.desa.id"]
    assert {"karangtengah-kemangkon.desa.id", "desakarangtengah.id"} <= set(hosts)
    assert "karangtengah.purbalinggakab.go.id" in hosts
    assert len(hosts) == len(set(hosts))
