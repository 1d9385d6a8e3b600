"""The test cases of docs/design.md not already golden fixtures of tests/test_integrity.py
(whose expected files name T1, T2, T4, T6-T8, T10, T11, T14, T15, T17-T19, T22, T27, T29;
T5 is a unit test there): T12, T24, T25, T26."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.decide.schedule import decide
from aggregator.integrity import analyse_item, analyse_page, assess
from aggregator.integrity.liveness import DEFAULT_INSTALL, PARKED_OR_SUSPENDED, classify_liveness
from aggregator.integrity.watch import Fetched, analyse
from aggregator.poll.poller import flag_spam
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.types import FetchResponse, Harvest, PollOutcome
from connectors.wordpress import finish_items, parse_posts

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
SITE = "https://sukamaju.example.desa.id"
CONFIG = f"""\
kabupaten: {{code: "33.03", name: Purbalingga}}
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {{code: "33.03.01.2001", name: Sukamaju, url: "{SITE}/"}}
"""


def _store(tmp: Path) -> Store:
    config = parse_config(CONFIG)
    store = Store(f"sqlite:///{tmp}/s.db", config.settings)
    store.migrate()
    store.sync_config(config, NOW)
    return store


def _record(store: Store, outcome: PollOutcome) -> None:
    village = store.due_villages(NOW, all_villages=True)[0]
    store.record_poll(outcome, decide(village, outcome, store.settings))


def _page(body: str) -> FetchResponse:
    return FetchResponse(f"{SITE}/", 200, {"content-type": "text/html"}, body.encode())


def test_t12_spam_posts_from_the_rest_api_are_a_compromise_and_never_activity(
    tmp_path: Path,
) -> None:
    def post(n: int, title: str, date_gmt: str, modified: str) -> dict[str, object]:
        link = f"{SITE}/?p={n}"
        return {
            "id": n, "date_gmt": date_gmt, "modified_gmt": modified, "link": link,
            "guid": {"rendered": link}, "title": {"rendered": title},
            "excerpt": {"rendered": ""}, "categories": [],
        }  # fmt: skip

    week_ago = (NOW - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S")
    spam = [post(900 + i, f"Link Slot Gacor Maxwin Hari Ini BRANDX88 {i}", "2019-03-01T10:00:00",
                 week_ago) for i in range(3)]  # fmt: skip
    real = [post(1, "Musyawarah Desa RKPDes 2027", "2026-05-01T02:00:00", "2026-05-01T02:00:00")]
    items = finish_items(parse_posts(json.loads(json.dumps(spam + real)), SITE), {}, {})
    harvest = flag_spam(Harvest("wordpress", "6.6.2", items=items))
    assert [i.spam for i in harvest.items] == [True, True, True, False]
    signals = [s for i in items for s in analyse_item(i.title, i.summary, i.url)]
    assert assess(signals, f"{SITE}/").level == "compromised"  # D6 (decisive)
    store = _store(tmp_path)
    _record(store, PollOutcome("33.03.01.2001", NOW, 100, True, harvest=harvest))
    v = store.village_detail("33.03.01.2001")
    assert v is not None
    # Liveness ignores the spam: the last legitimate post is from May, not last week.
    assert v["last_post_at"] == datetime(2026, 5, 1, 2, 0, tzinfo=UTC).isoformat()
    store.close()


def test_t24_suspended_account_page_is_inconclusive_not_clean() -> None:
    page = _page(
        "<html><head><title>Account Suspended</title></head><body><h1>Account Suspended</h1>"
        "<p>This Account has been suspended. Contact your hosting provider.</p></body></html>"
    )
    assert classify_liveness(page.content) == PARKED_OR_SUSPENDED
    report = analyse(Fetched(f"{SITE}/", (page, page, page), None, None, (), ()))
    assert report.level == "inconclusive" and report.liveness == PARKED_OR_SUSPENDED
    assert report.findings == ()


def test_t25_default_wordpress_install_is_clean_and_says_so() -> None:
    body = (
        "<html><head><title>Sukamaju &#8211; Just another WordPress site</title></head><body>"
        f'<article><h2><a href="{SITE}/2021/01/01/hello-world/">Hello world!</a></h2>'
        "<p>Welcome to WordPress. This is your first post. Edit or delete it.</p></article>"
        "</body></html>"
    )
    page = _page(body)
    assert classify_liveness(body) == DEFAULT_INSTALL
    assert assess(analyse_page(body, f"{SITE}/", site_host="sukamaju.example.desa.id"),
                  f"{SITE}/").level == "clean"  # fmt: skip
    report = analyse(Fetched(f"{SITE}/", (page, page, page), None, None, (), ()))
    assert report.level == "clean" and report.liveness == DEFAULT_INSTALL
    # A real village post that merely says "hello world!" is not a default install.
    assert classify_liveness("<p>Anak-anak PAUD belajar menulis Hello world!</p>") is None


def test_t26_three_dns_failures_over_48_hours_make_the_village_down(tmp_path: Path) -> None:
    store = _store(tmp_path)
    for hours in (0, 24, 48):
        village = store.due_villages(NOW, all_villages=True)[0]
        outcome = PollOutcome("33.03.01.2001", NOW + timedelta(hours=hours), 5, False,
                              phase="dns", message="cannot resolve: NXDOMAIN")  # fmt: skip
        store.record_poll(outcome, decide(village, outcome, store.settings))
    v = store.village_detail("33.03.01.2001")
    assert v is not None and v["status"] == "unreachable" and v["last_error_phase"] == "dns"
    store.close()
