"""The map of the overview and kecamatan pages: which regions to draw (villages, or at
national scale kecamatan or kabupaten), their colour for the chosen measure (`?peta=`), the
legend and the table that says the same in words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.requests import Request

from aggregator.decide.status import STATUS_LABELS, STATUSES
from aggregator.geo.boundaries import Boundaries, boundaries_dir, current
from aggregator.geo.render import Area, render_map
from aggregator.geo.sqlfile import Region
from aggregator.web.formatting import angka

MODES = {
    "status": "Status",
    "skor": "Skor aktivitas SID",
    "kip": "Keterbukaan Informasi",
    "keamanan": "Keamanan Digital",
}
VILLAGE_FIELDS = {"skor": "score", "kip": "kip_score", "keamanan": "security_score"}
AREA_FIELDS = {"skor": "mean_score", "kip": "mean_kip", "keamanan": "mean_security"}
BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 100))
# More regions than this make a map nobody can read (and a page too heavy): the overview
# then draws the next level up. The largest kabupaten have under 1,000 villages.
MAX_VILLAGES = 1000
MAX_AREAS = 1500
LEVEL_NAMES = {"desa": "desa/kelurahan", "kecamatan": "kecamatan", "kabupaten": "kabupaten/kota"}


def mode_of(request: Request) -> str:
    mode = request.query_params.get("peta", "")
    return mode if mode in MODES else "status"


def boundaries_of(request: Request) -> Boundaries:
    return current(boundaries_dir(request.app.state.store.url))


def band(value: float | None) -> int | None:
    if value is None:
        return None
    return min(4, max(0, int(value // 20)))


def band_label(i: int) -> str:
    lo, hi = BANDS[i]
    return f"{lo}–{hi}"


def _legend(mode: str, classes: list[str], share: bool) -> list[dict[str, Any]]:
    counts = {c: classes.count(c) for c in set(classes)}
    if mode == "status" and not share:
        keys = [(f"m-{s}", STATUS_LABELS[s]) for s in STATUSES]
    else:
        unit = "% desa bersitus yang aktif" if mode == "status" else ""
        keys = [(f"m-b{i}", f"{band_label(i)}{unit}") for i in range(len(BANDS))]
        keys.append(("m-none", "Belum ada nilai"))
    return [{"css": c, "label": label, "count": counts.get(c, 0)} for c, label in keys]


def _village_value(v: dict[str, Any], mode: str) -> tuple[str, str]:
    """(css class, words) of a village for `mode`."""
    if mode == "status":
        return f"m-{v['status']}", STATUS_LABELS.get(v["status"], v["status"])
    value = v.get(VILLAGE_FIELDS[mode])
    b = band(value)
    if b is None:
        return "m-none", "belum ada nilai"
    return f"m-b{b}", f"{MODES[mode]} {angka(value, 1)}"


def _area_value(row: Mapping[str, Any], mode: str) -> tuple[str, str, float | None]:
    if mode == "status":
        sites = row.get("with_site") or 0
        share = 100 * row["counts"].get("active", 0) / sites if sites else None
        b = band(share)
        if b is None or share is None:
            return "m-none", "belum ada desa bersitus", None
        return f"m-b{b}", f"{angka(share, 0)}% desa bersitus aktif", share
    value = row.get(AREA_FIELDS[mode])
    b = band(value)
    if b is None:
        return "m-none", "belum ada nilai", None
    return f"m-b{b}", f"{MODES[mode]} rata-rata {angka(value, 1)}", value


def _result(
    areas: list[tuple[Area, Region]],
    table: list[dict[str, Any]],
    missing: list[str],
    *,
    mode: str,
    level: str,
    where: str,
    share: bool,
    background: Sequence[Region] = (),
) -> dict[str, Any]:
    measure = "persentase desa aktif" if share else MODES[mode].lower()
    desc = (
        f"Peta {len(areas)} {LEVEL_NAMES[level]} di {where}, diwarnai menurut {measure}. "
        f"Setiap wilayah adalah tautan ke halamannya; isi peta juga ada di tabel di bawahnya."
    )
    svg = render_map(
        "peta-wilayah",
        areas,
        title=f"Peta {LEVEL_NAMES[level]}, {where}: {measure}",
        desc=desc,
        background=background,
    )
    return {
        "svg": svg,
        "mode": mode,
        "modes": MODES,
        "level": level,
        "level_name": LEVEL_NAMES[level],
        "measure": measure,
        "legend": _legend(mode, [a.css for a, _ in areas], share),
        "table": table,
        "missing": missing,
        "note": None,
    }


def village_map(
    villages: Sequence[dict[str, Any]],
    boundaries: Boundaries,
    mode: str,
    *,
    where: str,
    labels: bool,
    background: Sequence[Region] = (),
) -> dict[str, Any]:
    """Villages drawn where a boundary is known, coloured for `mode`, over `background`
    (the area's other villages, not in the config, unlinked)."""
    areas: list[tuple[Area, Region]] = []
    table: list[dict[str, Any]] = []
    missing: list[str] = []
    for v in sorted(villages, key=lambda v: (v.get("kecamatan_name") or "", v["name"])):
        region = boundaries.regions.get(v["code"])
        if region is None:
            missing.append(v["name"])
            continue
        css, words = _village_value(v, mode)
        href = f"/desa/{v['code']}"
        title = f"{v['name']}: {words}"
        areas.append((Area(v["code"], href, title, css, v["name"] if labels else ""), region))
        table.append(
            {
                "code": v["code"],
                "name": v["name"],
                "href": href,
                "group": v.get("kecamatan_name") or "",
                "value": words,
                "css": css,
            }
        )
    return _result(
        areas,
        table,
        missing,
        mode=mode,
        level="desa",
        where=where,
        share=False,
        background=background,
    )


def area_map(
    rows: Sequence[Mapping[str, Any]],
    boundaries: Boundaries,
    mode: str,
    *,
    level: str,
    where: str,
) -> dict[str, Any]:
    """Kecamatan (or kabupaten) rows of the summary drawn as regions, coloured by their
    share of active villages or their mean score."""
    areas: list[tuple[Area, Region]] = []
    table: list[dict[str, Any]] = []
    missing: list[str] = []
    for row in rows:
        region = boundaries.regions.get(row["code"])
        if region is None:
            missing.append(row["name"])
            continue
        css, words, _ = _area_value(row, mode)
        href = (
            f"/kecamatan/{row['code']}"
            if level == "kecamatan"
            else f"/?cari={row['code']}#per-kecamatan"
        )
        name = region.name if region.name and level == "kabupaten" else row["name"]
        areas.append((Area(row["code"], href, f"{name}: {words}", css), region))
        table.append(
            {
                "code": row["code"],
                "name": name,
                "href": href,
                "group": "",
                "value": words,
                "css": css,
            }
        )
    parents = sorted({r["code"].rsplit(".", 1)[0] for r in rows if "." in r["code"]})
    background = [b for p in parents for b in boundaries.within(p, level)]
    return _result(
        areas,
        table,
        missing,
        mode=mode,
        level=level,
        where=where,
        share=True,
        background=background,
    )


def kabupaten_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Kecamatan summary rows added up per kabupaten (the first two parts of the code);
    means weighted by villages with a site."""
    fields = tuple(AREA_FIELDS.values())
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        code = r["code"][:5]
        k = out.get(code)
        if k is None:
            k = out[code] = {
                "code": code,
                "name": f"Kabupaten/kota {code}",
                "counts": Counter(),
                "with_site": 0,
                "sums": [0.0] * len(fields),
                "weights": [0] * len(fields),
            }
        sites = r.get("with_site") or 0
        k["with_site"] += sites
        k["counts"].update(r["counts"])
        if sites:
            for i, f in enumerate(fields):
                if r.get(f) is not None:
                    k["sums"][i] += r[f] * sites
                    k["weights"][i] += sites
    for k in out.values():
        sums, weights = k.pop("sums"), k.pop("weights")
        for i, f in enumerate(fields):
            k[f] = sums[i] / weights[i] if weights[i] else None
    return sorted(out.values(), key=lambda k: k["code"])


def _empty(mode: str, note: str) -> dict[str, Any]:
    return {"svg": None, "mode": mode, "modes": MODES, "note": note, "table": [], "legend": []}


def overview_map(
    request: Request,
    load_kecamatan: Callable[[], Sequence[Mapping[str, Any]]],
    load_villages: Callable[[], list[dict[str, Any]]],
    totals: Mapping[str, Any],
) -> dict[str, Any]:
    """`choose_map` for the overview. `totals` (Summary.kabupaten_totals: villages,
    kecamatan, their kabupaten codes) decide first whether anything can be drawn; the
    kecamatan rows are loaded only then (at national scale without kabupaten boundaries,
    7,000 rows the map would not use)."""
    boundaries, mode = boundaries_of(request), mode_of(request)
    villages, count, kabupaten = totals["villages"], totals["kecamatan"], totals["kabupaten"]
    if (
        villages > MAX_VILLAGES
        and count > MAX_AREAS
        and (len(kabupaten) > MAX_AREAS or kabupaten.isdisjoint(boundaries.regions))
    ):
        return _no_boundaries(mode, villages, count)
    return choose_map(boundaries, mode, load_kecamatan(), load_villages)


def _no_boundaries(mode: str, villages: int, kecamatan: int) -> dict[str, Any]:
    return _empty(
        mode,
        f"Peta tidak ditampilkan: belum ada batas wilayah untuk {angka(villages)} desa di "
        f"{angka(kecamatan)} kecamatan ini. Muat batas wilayah dengan "
        "`sipande import-boundaries BERKAS.sql`.",
    )


def choose_map(
    boundaries: Boundaries,
    mode: str,
    kecamatan: Sequence[Mapping[str, Any]],
    load_villages: Callable[[], list[dict[str, Any]]],
) -> dict[str, Any]:
    """The overview's map: villages for a kabupaten; for more than MAX_VILLAGES villages,
    kecamatan; for more kecamatan than that, kabupaten; or a note when none of these has
    boundaries loaded (villages are loaded only when they are drawn)."""
    villages = sum(r["villages"] for r in kecamatan)
    if villages <= MAX_VILLAGES and any(boundaries.count(r["code"], "desa") for r in kecamatan):
        kabupaten = sorted({r["code"][:5] for r in kecamatan})
        background = [b for k in kabupaten for b in boundaries.within(k, "desa")]
        return village_map(
            load_villages(),
            boundaries,
            mode,
            where="kabupaten",
            labels=False,
            background=background if len(background) <= MAX_VILLAGES else (),
        )
    if len(kecamatan) <= MAX_AREAS and any(r["code"] in boundaries.regions for r in kecamatan):
        return area_map(kecamatan, boundaries, mode, level="kecamatan", where="kabupaten")
    codes = {r["code"][:5] for r in kecamatan}
    if len(codes) <= MAX_AREAS and not codes.isdisjoint(boundaries.regions):
        kabupaten = kabupaten_rows([r for r in kecamatan if r["code"][:5] in boundaries.regions])
        drawn = area_map(kabupaten, boundaries, mode, level="kabupaten", where="seluruh wilayah")
        drawn["missing"] = [f"Kabupaten/kota {c}" for c in sorted(codes - set(boundaries.regions))]
        return drawn
    return _no_boundaries(mode, villages, len(kecamatan))


def kecamatan_map(
    request: Request, villages: Sequence[dict[str, Any]], name: str
) -> dict[str, Any]:
    boundaries = boundaries_of(request)
    mode = mode_of(request)
    if not any(v["code"] in boundaries.regions for v in villages):
        return _empty(
            mode,
            "Peta tidak ditampilkan: belum ada batas wilayah untuk desa-desa kecamatan ini "
            "(`sipande import-boundaries BERKAS.sql`).",
        )
    code = villages[0]["kecamatan_code"]
    return village_map(
        villages,
        boundaries,
        mode,
        where=f"Kecamatan {name}",
        labels=True,
        background=boundaries.within(code, "desa"),
    )
