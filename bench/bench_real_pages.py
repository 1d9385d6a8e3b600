"""CPU of the page work of one first poll: bench_poll.py's small generated pages (--pages
small) against pages a real OpenSID 2410 served (tests/fixtures/opensid_real/2410/filled,
themes esensi and natra; esensi's are what bench_poll.py serves by default).

The small generated home page is about 5 kB and its article page 0.4 kB; the real 2410
pages are 28-68 kB. This measures what that difference costs a poll, page for page:

- connector: release and theme from the home page, its menu's service links, the visitor
  widget, the menu's static pages, and two sitemap-only article pages confirmed;
- scan: the integrity watch's analysis of three views of the home page (browser, crawler,
  search visitor: each parsed, as their bytes differ by a counter or a token) and of two
  article pages.

Prints one JSON line and a table (ms per village, median of `--repeat` runs).

    .venv/bin/python bench/bench_real_pages.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.integrity.detect import analyse_page
from aggregator.integrity.page import parse_page
from aggregator.types import FetchResponse
from bench import opensid_sites
from bench.machine import python_loop_s
from connectors.opensid_confirm import menu_pages, verdict
from connectors.opensid_html import (
    detect,
    detect_page,
    page_tree,
    parse_visitor_widget,
    service_links,
)

REAL = (
    Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "opensid_real" / "2410" / "filled"
)


def connector(home: bytes, article: bytes, base: str) -> None:
    detect_page.cache_clear()
    page = FetchResponse(url=base + "/", status_code=200, headers={}, content=home)
    detect(page)  # platform: auto's
    detect(page)  # the OpenSID connector's: remembered
    tree = page_tree(home)
    service_links(tree, base)
    parse_visitor_widget(tree)
    menu = menu_pages(home, base)
    for slug in ("a", "b"):
        verdict(article, f"{base}/index.php/artikel/2024/1/1/{slug}", menu)


def scan(home: bytes, article: bytes, base: str) -> None:
    parse_page.cache_clear()
    host = base.split("//", 1)[1].split(":", 1)[0]
    for view in (home, home + b" ", home + b"  "):
        analyse_page(view, base + "/", site_host=host)
    for i, page in enumerate((article, article + b" ")):
        analyse_page(page, f"{base}/artikel/{i}", site_host=host)


def median_ms(work: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        work()
        times.append((time.process_time() - started) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    base = "http://desa-1.example:8080"
    sets = {
        "bench_poll site": (
            opensid_sites.home(base, 1, datetime.now(UTC), 0),
            opensid_sites.article(base, "/index.php/artikel/2026/1/1/berita-3"),
            base,
        ),
    }
    for theme in ("esensi", "natra"):
        folder = REAL / theme
        sets[f"real 2410 {theme}"] = (
            (folder / "home.html").read_bytes(),
            (folder / "article.html").read_bytes(),
            "http://127.0.0.1:8241",
        )
    out: dict[str, dict[str, float]] = {}
    speed = [python_loop_s()]
    for name, (home, article, site) in sets.items():
        out[name] = {
            "home_kb": round(len(home) / 1000, 1),
            "article_kb": round(len(article) / 1000, 1),
            "connector_ms": median_ms(partial(connector, home, article, site), args.repeat),
            "scan_ms": median_ms(partial(scan, home, article, site), args.repeat),
        }
    speed.append(python_loop_s())  # before and after (bench/machine.py)
    print(
        json.dumps(
            {"bench": "real_pages", "repeat": args.repeat, "results": out, "python_loop_s": speed}
        )
    )
    print(f"\n{'pages':<18} {'home kB':>8} {'article kB':>11} {'connector ms':>13} {'scan ms':>8}")
    for name, r in out.items():
        print(
            f"{name:<18} {r['home_kb']:>8} {r['article_kb']:>11} "
            f"{r['connector_ms']:>13} {r['scan_ms']:>8}"
        )
    print(f"Python loop {speed[0]} / {speed[1]} s before / after")


if __name__ == "__main__":
    main()
