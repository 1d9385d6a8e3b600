"""`sipande import-boundaries FILE`: load one file of the `cahyadsn/wilayah_boundaries`
dataset (a kabupaten's villages, or a province's kecamatan or kabupaten), simplify it, keep
it in the boundaries folder beside the store, and report the configured villages that still
have no boundary. Exit codes: 0 loaded, 1 nothing usable in the file, 2 bad input."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from aggregator.geo.boundaries import (
    SCALE,
    TOLERANCE,
    boundaries_dir,
    encode,
    level_of,
    load,
)
from aggregator.geo.simplify import simplify_region
from aggregator.geo.sqlfile import Region, parse_sql

DEFAULT_CONFIG = "config/districts.yaml"
DEFAULT_DATABASE = "sqlite:///data/sipande.db"
LICENCE = "MIT, copyright (c) 2024 Cahya DSN (github.com/cahyadsn/wilayah_boundaries)"
SHOWN = 30  # missing villages listed by name; the rest counted


def _common_prefix(codes: list[str]) -> str:
    parts = [c.split(".") for c in codes]
    out: list[str] = []
    for group in zip(*parts, strict=False):
        if len(set(group)) != 1:
            break
        out.append(group[0])
    return ".".join(out) or "wilayah"


def output_path(folder: Path, regions: list[Region]) -> Path:
    """`<common code prefix>-<level>.json`, e.g. 33.04-desa.json or 33-kecamatan.json."""
    levels = Counter(level_of(r.code) for r in regions)
    level = levels.most_common(1)[0][0]
    return folder / f"{_common_prefix([r.code for r in regions])}-{level}.json"


def cmd_import_boundaries(args: argparse.Namespace) -> int:
    from aggregator.cli.common import load_or_report

    config = load_or_report(args.config)
    if config is None:
        return 2
    source = Path(args.file)
    try:
        with source.open(encoding="utf-8", errors="replace") as f:
            parsed = parse_sql(f)
    except OSError as e:
        print(f"{source}: tidak bisa dibaca: {e}", file=sys.stderr)
        return 2
    for problem in parsed.problems:
        print(f"{source}: {problem}")
    kept: list[Region] = []
    for region in parsed.regions.values():
        simple = simplify_region(region, args.tolerance, 1 / SCALE)
        if simple is None:
            print(f"{source}: {region.code}: poligon hilang saat disederhanakan, dilewati")
        else:
            kept.append(simple)
    if not kept:
        print(f"{source}: tidak ada batas wilayah yang bisa dipakai", file=sys.stderr)
        return 1
    url = args.database or os.environ.get("SIPANDE_DATABASE_URL") or DEFAULT_DATABASE
    folder = boundaries_dir(url)
    target = Path(args.out) if args.out else output_path(folder, kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = encode(kept, source=source.name, licence=LICENCE, scale=SCALE)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    levels = Counter(level_of(r.code) for r in kept)
    print(
        f"{len(kept)} batas wilayah ({', '.join(f'{n} {lv}' for lv, n in sorted(levels.items()))})"
        f" disimpan di {target} ({len(text.encode()) // 1024} kB)"
    )
    known = load(folder).regions
    known.update({r.code: r for r in kept})
    configured = {v.code for v in config.villages}
    outside = sorted(
        r.code for r in kept if level_of(r.code) == "desa" and r.code not in configured
    )
    if outside:
        print(f"{len(outside)} kode di berkas tidak ada di {args.config} (mis. {outside[0]})")
    missing = [v for v in config.villages if v.code not in known]
    print(f"Desa di {args.config} tanpa batas wilayah: {len(missing)} dari {len(configured)}")
    for v in missing[:SHOWN]:
        print(f"  {v.code} {v.name}")
    if len(missing) > SHOWN:
        print(f"  ... dan {len(missing) - SHOWN} lagi")
    return 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[..., None],
) -> None:
    """Add `import-boundaries`; `common(p)` adds --config and --database."""
    p = sub.add_parser(
        "import-boundaries",
        help="load village (or kecamatan/kabupaten) boundaries from a wilayah_boundaries .sql",
    )
    p.add_argument("file", help="e.g. wilayah_boundaries_kel_33.04.sql (read as text, not run)")
    common(p)
    p.add_argument("--out", help="write the boundaries file here instead of the store's folder")
    p.add_argument(
        "--tolerance",
        type=float,
        default=TOLERANCE,
        help="simplification in degrees (%(default)s, about 11 m)",
    )
    p.set_defaults(func=cmd_import_boundaries)
