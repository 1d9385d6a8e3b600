"""Boundaries: reading the dataset's SQL text (hostile lines included), simplifying,
the compact file format, the shipped Purbalingga file, SVG rendering and
`sipande import-boundaries`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aggregator.cli import main
from aggregator.geo.boundaries import decode, encode, load, shipped_files
from aggregator.geo.render import Area, render_map
from aggregator.geo.simplify import douglas_peucker, simplify_region, simplify_ring
from aggregator.geo.sqlfile import Region, parse_path, parse_sql
from aggregator.settings import load_config

ROOT = Path(__file__).resolve().parents[1]
EXCERPT = ROOT / "tests/fixtures/boundaries/wilayah_boundaries_kel_33.02_excerpt.sql"


def square(lat: float, lng: float, size: float = 0.01) -> str:
    """A `path` value: one ring of [lat, lng] points, as the dataset writes it."""
    pts = [[lat, lng], [lat, lng + size], [lat - size, lng + size], [lat - size, lng], [lat, lng]]
    return json.dumps([pts])


HOSTILE_SQL = f"""/*
header comment with a ( parenthesis and an 'apostrophe
*/
DROP TABLE IF EXISTS wilayah_boundaries;
DELETE FROM wilayah_boundaries WHERE kode LIKE '33.99.%';
INSERT INTO wilayah_boundaries(kode,nama,lat,lng,path) VALUES
\t('33.99.01.2001','Karang''anyar',-7.1,109.1,'{square(-7.1, 109.1)}'),
\t('33.99.01.2002','Tanpa penutup,-7.1,109.1,'[[[1,2]]]'),
\t('33.99.01.2003','Sampah',-7.1,109.1,'[[[-7.1,109.1],["x",109.2],[-7.2,109.2]]]'),
\t('33.99.01.2004','NaN',-7.1,109.1,'[[[-7.1,109.1],[NaN,109.2],[-7.2,109.2]]]'),
\t('33.99.01.2005','Lintang',-7.1,109.1,'[[[-97.1,109.1],[-7.1,109.2],[-7.2,109.2]]]'),
\t('33.99.01.2006','Dalam',-7.1,109.1,'{"[" * 5000}{"]" * 5000}'),
\t('33.99.01.2007','Dua titik',-7.1,109.1,'[[[-7.1,109.1],[-7.2,109.2],[-7.1,109.1]]]'),
\t('bukan kode','X',-7.1,109.1,'{square(-7.3, 109.3)}'),
\t('33.99.01.2008','M',-7,109,'[{square(-7.4, 109.4)},{square(-7.5, 109.5)}]');DROP TABLE x;
\t('33.99.01.2009','Multi',-7.1,109.1,'[{square(-7.4, 109.4)},{square(-7.5, 109.5)}]');
INSERT INTO lain(kode,nama,lat,lng,path) VALUES
\t('33.99.01.2010','Tabel lain',-7.1,109.1,'{square(-7.6, 109.6)}');
"""


def test_parse_keeps_good_rows_and_reports_every_bad_line() -> None:
    result = parse_sql(HOSTILE_SQL.splitlines())
    assert sorted(result.regions) == ["33.99.01.2001", "33.99.01.2009"]
    good = result.regions["33.99.01.2001"]
    assert good.name == "Karang'anyar"
    # [lat, lng] in the file, (lng, lat) here; the closing point is not repeated.
    ring = [(round(x, 6), round(y, 6)) for x, y in good.rings[0]]
    assert len(good.rings) == 1
    assert ring == [(109.1, -7.1), (109.11, -7.1), (109.11, -7.11), (109.1, -7.11)]
    assert len(result.regions["33.99.01.2009"].rings) == 2  # a multipolygon's two parts
    assert result.problems == [
        "baris 8: pemisah kolom tidak dikenal",  # a string closed too early: junk after it
        "baris 9: 33.99.01.2003: koordinat bukan angka",
        "baris 10: 33.99.01.2004: koordinat di luar batas: nan",
        "baris 11: 33.99.01.2005: koordinat di luar batas: -97.1",
        "baris 12: 33.99.01.2006: path bukan JSON yang sah (RecursionError)",
        "baris 13: 33.99.01.2007: tidak ada cincin dengan minimal tiga titik",
        "baris 14: kode wilayah tidak sah: 'bukan kode'",
        "baris 15: teks tambahan setelah ')'",  # a second statement: neither run nor loaded
        "baris 17: INSERT ke tabel lain (lain) diabaikan",
    ]
    assert "33.99.01.2010" not in result.regions


def test_parse_path_shapes() -> None:
    assert len(parse_path(square(-7, 109))) == 1
    with pytest.raises(ValueError, match="kedalaman"):
        parse_path("[[1, 2]]")
    with pytest.raises(ValueError, match="pasangan"):
        parse_path("[[[1, 2, 3], [1, 2, 3], [1, 2, 3]]]")


def test_the_dataset_file_format_reads() -> None:
    result = parse_sql(EXCERPT.read_text("utf-8").splitlines())
    assert result.problems == []
    assert [(r.code, r.name) for r in result.regions.values()] == [
        ("33.02.01.2001", "Cirahab"),
        ("33.02.01.2002", "Canduk"),
        ("33.02.01.2003", "Parungkamal"),
    ]
    for region in result.regions.values():
        assert region.label is not None
        xs = [x for ring in region.rings for x, _ in ring]
        assert 108.9 < min(xs) < max(xs) < 109.2  # longitude first after reading


def test_douglas_peucker_drops_only_what_is_within_tolerance() -> None:
    line = ((0.0, 0.0), (1.0, 0.001), (2.0, 0.0), (3.0, 1.0), (4.0, 0.0))
    assert douglas_peucker(line, 0.01) == ((0.0, 0.0), (2.0, 0.0), (3.0, 1.0), (4.0, 0.0))
    ring = ((0.0, 0.0), (0.5, 0.00001), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    assert simplify_ring(ring, 0.001, 0.0001) == ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    assert simplify_ring(((0.0, 0.0), (0.00001, 0.0), (0.0, 0.00001)), 0.001, 0.001) == ()
    sliver = Region("33.99.01.2001", "x", (((0.0, 0.0), (0.00001, 0.0), (0.0, 0.00001)),))
    assert simplify_region(sliver, 0.001, 0.001) is None


def test_file_format_round_trip_and_junk() -> None:
    result = parse_sql(HOSTILE_SQL.splitlines())
    text = encode(result.regions.values(), source="t.sql", licence="MIT", scale=10_000)
    back = decode(text)
    for code, region in result.regions.items():
        for got, want in zip(back[code].rings, region.rings, strict=True):
            flat = [c for point in want for c in point]  # on the 1e-4 grid already
            assert [c for point in got for c in point] == pytest.approx(flat, abs=1e-9)
    assert back["33.99.01.2001"].name == "Karang'anyar"
    for junk in ('{"format": "lain"}', '{"format": "sipande-boundaries/1", "scale": 0}'):
        with pytest.raises(ValueError):
            decode(junk)
    bad_ring = text.replace('"scale": 10000', '"scale": 10000, "x": 1').replace(",0,", ',"0",')
    with pytest.raises(ValueError):
        decode(bad_ring)


def test_shipped_purbalingga_covers_every_configured_village(tmp_path: Path) -> None:
    files = dict(shipped_files())
    assert set(files) == {"33.03-desa.json"}
    assert len(files["33.03-desa.json"].encode()) <= 150_000
    assert "MIT" in json.loads(files["33.03-desa.json"])["licence"]
    notice = ROOT / "aggregator/geo/data/LICENSE-wilayah_boundaries.txt"
    assert "Permission is hereby granted" in notice.read_text("utf-8")
    (tmp_path / "rusak.json").write_text("{bukan json", encoding="utf-8")
    loaded = load(tmp_path)
    config = load_config(ROOT / "config/districts.yaml")
    assert {v.code for v in config.villages} <= set(loaded.regions)
    assert loaded.count("33.03.01", "desa") == 19
    assert any("rusak.json" in p for p in loaded.problems)  # skipped, said, rest loaded


def test_render_escapes_and_links_every_area() -> None:
    regions = parse_sql(HOSTILE_SQL.splitlines()).regions
    hostile = '<script>alert(1)</script>" onload="x'
    areas = [
        (Area(code, f"/desa/{code}", f"{hostile}: Aktif", "m-active", hostile), region)
        for code, region in regions.items()
    ]
    svg = str(render_map("peta", areas, title="Peta <uji>", desc="d"))
    root = ET.fromstring(svg)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    links = root.findall(f"{ns}a")
    assert [a.get("href") for a in links] == [f"/desa/{c}" for c in regions]
    assert all(a.get("aria-label") == f"{hostile}: Aktif" for a in links)
    assert all(a.find(f"{ns}title").text == f"{hostile}: Aktif" for a in links)  # type: ignore[union-attr]
    assert all(a.find(f"{ns}path").get("d", "").startswith("M") for a in links)  # type: ignore[union-attr]
    assert "<script>" not in svg and "style=" not in svg
    assert render_map("peta", [], title="t", desc="d") == ""


def test_import_boundaries_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "districts.yaml"
    config.write_text(
        'kabupaten: {code: "33.02", name: Banyumas}\n'
        "kecamatan:\n"
        '  - code: "33.02.01"\n'
        "    name: Lumbir\n"
        "    villages:\n"
        '      - {code: "33.02.01.2001", name: Cirahab}\n'
        '      - {code: "33.02.01.2002", name: Canduk}\n'
        '      - {code: "33.02.01.2004", name: Desa Empat}\n',
        encoding="utf-8",
    )
    sql = tmp_path / "wilayah_boundaries_kel_33.02.sql"
    text = EXCERPT.read_text("utf-8").replace("VALUES\n", "VALUES\n\t('33.02.01.2099','x,1);\n", 1)
    sql.write_text(text, encoding="utf-8")
    db = f"sqlite:///{tmp_path}/store/sipande.db"
    code = main(["import-boundaries", str(sql), "--config", str(config), "--database", db])
    out = capsys.readouterr().out
    assert code == 0, out
    written = tmp_path / "store/boundaries/33.02.01-desa.json"
    assert f"3 batas wilayah (3 desa) disimpan di {written}" in out
    assert "baris 35: " in out  # the bad line, reported with its number
    assert "tanpa batas wilayah: 1 dari 3" in out and "33.02.01.2004 Desa Empat" in out
    assert "1 kode di berkas tidak ada di" in out  # 2003 is in the file, not the config
    assert {"33.02.01.2001", "33.02.01.2002"} <= set(load(written.parent).regions)

    empty = tmp_path / "kosong.sql"
    empty.write_text("DROP TABLE wilayah_boundaries;\n", encoding="utf-8")
    assert main(["import-boundaries", str(empty), "--config", str(config), "--database", db]) == 1
    missing = str(tmp_path / "tidak-ada.sql")
    assert main(["import-boundaries", missing, "--config", str(config), "--database", db]) == 2
