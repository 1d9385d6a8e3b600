"""The store on a real SQLite file and a real PostgreSQL: schema, config sync, poll writes,
deduplication and the read queries."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from aggregator.decide.schedule import decide
from aggregator.settings import Settings, parse_config
from aggregator.store import Store
from aggregator.types import Harvest, ParsedItem, PollOutcome, ServiceObservation
from aggregator.web import create_app
from tests.conftest import LiveServer

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
WIB = timezone(timedelta(hours=7))
CONFIG = """\
kabupaten: {code: "33.03", name: Purbalingga}
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {code: "33.03.01.2001", name: Kedungbenda, url: "http://kedungbenda.example/"}
      - {code: "33.03.01.2002", name: Bokol, url: ""}
  - code: "33.03.02"
    name: Bukateja
    villages:
      - {code: "33.03.02.2001", name: Bajong, url: "http://bajong.example/"}
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/s.db"
    else:
        url = os.environ.get("SIPANDE_TEST_POSTGRES_URL", "")
        if not url:
            pytest.skip("SIPANDE_TEST_POSTGRES_URL not set (.ci/run sets it)")
        wipe = Store(url)
        with wipe.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        wipe.close()
    store = Store(url, Settings())
    store.migrate()
    store.sync_config(parse_config(CONFIG), NOW)
    yield store
    store.close()


def _item(
    n: int, *, guid: bool = True, days_ago: float = 1, title: str | None = None
) -> ParsedItem:
    url = f"http://kedungbenda.example/index.php/artikel/2026/11/{n}/berita-{n}"
    return ParsedItem(
        title=title or f"Berita {n}",
        url=url,
        guid=url if guid else None,
        published_at=(NOW - timedelta(days=days_ago)).astimezone(WIB),
        summary=f"Isi berita {n}",
        content_hash=f"{n:064d}" if title is None else f"{hash(title) & 0xFFFF:064d}",
    )


def _record(store: Store, items: list[ParsedItem], *, ok: bool = True, at: datetime = NOW) -> int:
    village = store.due_villages(at, codes=["33.03.01.2001"], all_villages=True)[0]
    outcome = PollOutcome(
        "33.03.01.2001", at, 120, ok,
        phase=None if ok else "connect", message=None if ok else "refused",
        harvest=Harvest("opensid", "24.10", "http://kedungbenda.example/index.php/feed",
                        items=tuple(items),
                        services=(ServiceObservation("lapak", True, 12),),
                        metrics={"visitors_total": 1234.0}) if ok else None,
        validators={"http://kedungbenda.example/index.php/feed": {"etag": 'W/"1"'}} if ok else {},
    )  # fmt: skip
    return store.record_poll(outcome, decide(village, outcome, store.settings))


def test_sync_config_adds_updates_and_keeps_removed_villages(any_store: Store) -> None:
    villages = {v["code"]: v for v in any_store.list_villages()}
    assert set(villages) == {"33.03.01.2001", "33.03.01.2002", "33.03.02.2001"}
    assert villages["33.03.01.2002"]["status"] == "no_site"
    changed = CONFIG.replace("http://bajong.example/", "https://bajong.example/").replace(
        '      - {code: "33.03.01.2002", name: Bokol, url: ""}\n', ""
    )
    counts = any_store.sync_config(parse_config(changed), NOW)
    assert counts == {"added": 0, "updated": 1, "removed": 1}
    assert {v["code"] for v in any_store.list_villages()} == {"33.03.01.2001", "33.03.02.2001"}
    assert any_store.list_villages(kecamatan="33.03.02")[0]["url"] == "https://bajong.example/"


def test_due_villages_only_with_url_and_due(any_store: Store) -> None:
    due = {v.code for v in any_store.due_villages(NOW + timedelta(minutes=2))}
    assert due == {"33.03.01.2001", "33.03.02.2001"}  # Bokol has no url
    assert any_store.due_villages(NOW - timedelta(hours=1)) == []


def test_record_poll_stores_items_services_metrics_and_dedups(any_store: Store) -> None:
    assert (
        _record(any_store, [_item(1), _item(2, guid=False, days_ago=2), _item(3, days_ago=40)]) == 3
    )
    assert (
        _record(any_store, [_item(1), _item(2, guid=False, days_ago=2), _item(3, days_ago=40)]) == 0
    )
    # The site upgraded and now sends guids for old items: still the same items.
    assert _record(any_store, [_item(2, guid=True, days_ago=2)]) == 0
    # An edited title keeps the item's identity (same guid) and takes the new text.
    assert _record(any_store, [_item(1, title="Berita 1 (ralat)")]) == 0
    news = any_store.news(village="33.03.01.2001")
    assert [n["title"] for n in news] == ["Berita 1 (ralat)", "Berita 2", "Berita 3"]
    assert news[0]["published_at"] == (NOW - timedelta(days=1)).isoformat()
    detail = any_store.village_detail("33.03.01.2001")
    assert detail is not None
    assert detail["news_count"] == 3 and detail["status"] == "active"
    assert detail["platform"] == "opensid" and detail["platform_version"] == "24.10"
    assert detail["services"][0]["kind"] == "lapak" and detail["services"][0]["count"] == 12
    assert detail["metrics"]["visitors_total"]["value"] == 1234.0
    assert len(detail["recent_checks"]) == 4 and detail["recent_checks"][-1]["new_items"] == 3
    assert any_store.validators_json("33.03.01.2001") == {
        "http://kedungbenda.example/index.php/feed": {"etag": 'W/"1"'}
    }


def test_failures_are_data_and_three_make_unreachable(any_store: Store) -> None:
    _record(any_store, [_item(1)])
    for i in range(3):
        _record(any_store, [], ok=False, at=NOW + timedelta(hours=i + 1))
    v = any_store.village_detail("33.03.01.2001")
    assert v is not None
    assert v["status"] == "unreachable" and v["consecutive_failures"] == 3
    assert v["last_error_phase"] == "connect" and v["last_error_message"] == "refused"
    assert v["failing_since"] == (NOW + timedelta(hours=1)).isoformat()
    assert v["news_count"] == 1  # nothing lost
    _record(any_store, [_item(1)], at=NOW + timedelta(hours=5))
    v = any_store.village_detail("33.03.01.2001")
    # Hysteresis: one good check is not enough to be back up (recover_after = 2).
    assert v is not None and v["status"] == "unreachable" and v["failing_since"] is None
    _record(any_store, [_item(1)], at=NOW + timedelta(hours=6))
    v = any_store.village_detail("33.03.01.2001")
    assert v is not None and v["status"] == "active"


def test_status_moves_with_time_and_overview_counts(any_store: Store) -> None:
    _record(any_store, [_item(1, days_ago=20)])
    assert any_store.list_villages(status="active")[0]["code"] == "33.03.01.2001"
    any_store.refresh_statuses(NOW + timedelta(days=20))
    assert any_store.list_villages(kecamatan="33.03.01")[0]["status"] == "low_activity"
    overview = {k["code"]: k for k in any_store.kecamatan_overview()}
    assert overview["33.03.01"]["counts"]["low_activity"] == 1
    assert overview["33.03.01"]["counts"]["no_site"] == 1
    assert overview["33.03.01"]["total"] == 2 and not overview["33.03.01"]["ready"]


def test_news_search_escapes_like_wildcards(any_store: Store) -> None:
    _record(any_store, [_item(1, title="Diskon 100% pupuk"), _item(2, title="Posyandu")])
    assert [n["title"] for n in any_store.news(q="100%")] == ["Diskon 100% pupuk"]
    assert any_store.news(q="%") == [any_store.news(q="100%")[0]]
    assert [n["title"] for n in any_store.news(q="posYANDU")] == ["Posyandu"]
    assert any_store.news(kecamatan="33.03.02") == []


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_migrations_match_the_models(any_store: Store) -> None:
    """Alembic's autogenerate finds nothing to do: no model change without a migration.
    The full-text search objects differ by database and are left out (models.py)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from aggregator.models import in_model_metadata

    with any_store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": in_model_metadata})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_upgrade_keeps_rows_written_by_the_first_schema(tmp_path: object) -> None:
    from alembic import command
    from alembic.config import Config

    store = Store(f"sqlite:///{tmp_path}/old.db")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parents[1] / "aggregator/migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO kecamatan (code, name, kabupaten_code, in_config) "
                "VALUES ('33.03.01', 'Kemangkon', '33.03', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO village (code, kecamatan_code, name, type, url, platform, in_config,"
                " consecutive_failures, validators, news_count, status) VALUES ('33.03.01.2001',"
                " '33.03.01', 'Kedungbenda', 'desa', '', 'auto', 1, 0, '{}', 0, 'no_site')"
            )
        )
    store.migrate()
    assert [v["name"] for v in store.list_villages()] == ["Kedungbenda"]
    store.close()


def test_every_store_method_has_one_home() -> None:
    """No part of the composed Store shadows another's method (a shadowed copy is dead)."""
    homes: dict[str, str] = {}
    for part in Store.__mro__[1:]:
        if not part.__module__.startswith("aggregator.store."):
            continue
        for name in vars(part):
            if name.startswith("__"):
                continue
            assert name not in homes, f"{name} in {homes.get(name)} and {part.__name__}"
            homes[name] = part.__name__
    assert {"record_poll", "news", "score_all", "findings", "add_user"} <= set(homes)


def _services(store: Store, services: tuple[ServiceObservation, ...], at: datetime) -> None:
    village = store.due_villages(at, codes=["33.03.01.2001"], all_villages=True)[0]
    harvest = Harvest("opensid", "24.10", None, services=services)
    outcome = PollOutcome("33.03.01.2001", at, 120, True, harvest=harvest)
    store.record_poll(outcome, decide(village, outcome, store.settings))


def test_a_service_page_that_answers_an_error(any_store: Store) -> None:
    """Published but broken (real 2410 esensi answers 500): "rusak", scoring nothing. A page
    that showed content keeps it through a passing error, which its label still tells; the
    next answer clears the error."""
    from aggregator.decide.scoring import service_label

    def states() -> dict[str, tuple[str, int | None, str | None]]:
        detail = any_store.village_detail("33.03.01.2001")
        assert detail is not None
        return {s["kind"]: (s["state"], s["count"], s["error"]) for s in detail["services"]}

    _services(
        any_store,
        (
            ServiceObservation("lapak", True, 12),
            ServiceObservation("pengaduan", True, error="HTTP 500"),
        ),
        NOW,
    )
    assert states() == {"lapak": ("berisi", 12, None), "pengaduan": ("rusak", None, "HTTP 500")}
    _services(any_store, (ServiceObservation("lapak", True, error="HTTP 503"),), NOW + timedelta(1))
    assert states()["lapak"] == ("berisi", 12, "HTTP 503")  # the content stays, and scores
    matrix = any_store.services_by_village(kecamatan="33.03.01")["33.03.01.2001"]
    assert service_label(matrix["lapak"]) == "ada, berisi 12 (terakhir dibaca: HTTP 503)"
    assert service_label(matrix["pengaduan"]) == "ada, rusak (HTTP 500)"
    any_store.score_all(NOW + timedelta(1))
    detail = any_store.village_detail("33.03.01.2001")
    assert detail is not None
    reason = next(c for c in detail["score_components"] if c["key"] == "services")["reason"]
    assert "Pengaduan" in reason and "Lapak" not in reason, reason
    # The village page says both: the broken page, and the passing error of the other.
    with LiveServer(create_app(any_store.settings, store=any_store, run_scheduler=False)) as srv:
        page = httpx.get(f"{srv.url}/desa/33.03.01.2001").text
    services = page.split('id="services"')[1].split("</table>")[0]
    assert "✗ ada, rusak (HTTP 500)" in services
    assert '✓ ada, berisi</span> <span class="small muted">(terakhir dibaca: HTTP 503)' in services
    _services(any_store, (ServiceObservation("lapak", True, 0),), NOW + timedelta(2))
    assert states()["lapak"] == ("kosong", 0, None)
