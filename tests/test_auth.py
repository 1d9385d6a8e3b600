"""Access control: logins, sessions, CSRF, regional scope, the login throttle, the
`sipande user` commands, and the admin view, against uvicorn on loopback and a SQLite file."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher, Type
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from sqlalchemy import text, update
from sqlmodel import Session

from aggregator.access import auth
from aggregator.access.auth import (
    AuthError,
    LoginThrottle,
    check_account,
    hash_password,
    load_secret_key,
    verify_password,
)
from aggregator.cli import main as sipande
from aggregator.decide.thresholds import apply_overrides, parse_form
from aggregator.models import Check, Finding, Village
from aggregator.settings import Settings, parse_config
from aggregator.store import Store
from aggregator.web import create_app
from aggregator.web.auth import middleware, safe_next
from tests.conftest import LiveServer

KEC_A, KEC_B = "33.03.01", "33.03.02"
VIL_A, VIL_B = "33.03.01.2001", "33.03.02.2001"
HOSTILE_NAME = 'Kedung<script>alert("desa")</script>benda & <b>Jaya</b>'
HOSTILE_EVIDENCE = '<img src=x onerror=alert(1)> slot gacor <script>alert("bukti")</script>'
PASSWORDS = {"admin": "rahasia-dinkominfo", "opa": "rahasia-kemangkon", "rani": "rahasia-rani-1"}
CONFIG = f"""
kabupaten: {{code: "33.03", name: Purbalingga}}
kecamatan:
  - code: "{KEC_A}"
    name: Kemangkon
    villages:
      - {{code: "{VIL_A}", name: '{HOSTILE_NAME}', url: "http://127.0.0.1:9/"}}
  - code: "{KEC_B}"
    name: Bukateja
    villages:
      - {{code: "{VIL_B}", name: Bajong, url: "http://127.0.0.1:9/"}}
"""
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
REAL_HASHER = auth._HASHER  # before the fast one below replaces it


@dataclass
class Site:
    store: Store
    url: str
    db_url: str
    findings: dict[str, int]  # village code -> its open finding's id


def _finding(store: Store, village: str, now: datetime) -> int:
    with Session(store.engine) as s:
        row = Finding(
            village_code=village,
            kind="judi_online",
            url="javascript:alert(1)",
            evidence=HOSTILE_EVIDENCE,
            first_seen=now,
            last_seen=now,
        )
        s.add(row)
        s.commit()
        assert row.id is not None
        return row.id


@pytest.fixture(scope="module", autouse=True)
def fast_hashes() -> Iterator[None]:
    """argon2id with small costs for this module's many logins (as Django's test settings
    swap in a fast hasher); the real parameters are checked below, and `sipande user add`
    in its subprocess hashes with them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('auth')}/sipande.db"
    config = parse_config(CONFIG)
    store = Store(db_url, config.settings)
    store.migrate()
    now = datetime.now(UTC)
    store.sync_config(config, now)
    findings = {v: _finding(store, v, now) for v in (VIL_A, VIL_B)}
    store.add_user("admin", hash_password(PASSWORDS["admin"]), "dinkominfo", None, now)
    store.add_user("opa", hash_password(PASSWORDS["opa"]), "kecamatan", KEC_A, now)
    store.add_user("rani", hash_password(PASSWORDS["rani"]), "kecamatan", KEC_B, now)
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as server:
        yield Site(store, server.url, db_url, findings)
    store.close()


Browser = Callable[..., httpx.Client]


@pytest.fixture
def browser(site: Site) -> Iterator[Browser]:
    """Makes browsers, each with its own cookies, from an address (uvicorn trusts
    X-Forwarded-For from loopback, as behind nginx); all closed after the test."""
    made: list[httpx.Client] = []

    def make(ip: str = "10.0.0.1", base: str | None = None) -> httpx.Client:
        c = httpx.Client(base_url=base or site.url, headers={"x-forwarded-for": ip}, timeout=10)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def csrf(c: httpx.Client, path: str = "/masuk") -> str:
    page = c.get(path)
    match = CSRF.search(page.text)
    assert match, (path, page.status_code)
    return match.group(1)


def login(
    c: httpx.Client, username: str, password: str | None = None, token: str | None = None
) -> httpx.Response:
    form = {"username": username, "password": password or PASSWORDS[username]}
    return c.post("/masuk", data={**form, "csrf": token or csrf(c)})


def logged_in(browser: Browser, username: str, ip: str = "10.0.0.1") -> httpx.Client:
    c = browser(ip)
    resp = login(c, username)
    assert resp.status_code == 303 and resp.headers["location"] == "/admin", resp.text
    return c


def acknowledged(store: Store, finding_id: int) -> tuple[str | None, datetime | None]:
    with Session(store.engine) as s:
        row = s.get(Finding, finding_id)
        assert row is not None
        return row.acknowledged_by, row.acknowledged_at


def next_check(store: Store, code: str) -> datetime | None:
    with Session(store.engine) as s:
        v = s.get(Village, code)
        assert v is not None
        return v.next_check_at


def postpone(store: Store, code: str, until: datetime) -> None:
    with Session(store.engine) as s:
        s.connection().execute(
            update(Village).where(Village.code == code).values(next_check_at=until)
        )
        s.commit()


# --- passwords, accounts, pure parts --------------------------------------------------------


def test_the_hasher_is_argon2id_with_rfc_9106_parameters() -> None:
    assert (REAL_HASHER.type, REAL_HASHER.memory_cost) == (Type.ID, 64 * 1024)
    assert (REAL_HASHER.time_cost, REAL_HASHER.parallelism) == (3, 4)


def test_passwords_are_stored_as_argon2id_hashes(site: Site) -> None:
    user = site.store.user_by_name("admin")
    assert user is not None and user.role == "dinkominfo" and user.kecamatan_code is None
    assert user.password_hash.startswith("$argon2id$")
    with site.store.engine.connect() as conn:
        stored = conn.execute(text("SELECT group_concat(password_hash) FROM app_user")).scalar()
    assert all(p not in str(stored) for p in PASSWORDS.values())
    assert verify_password(user.password_hash, PASSWORDS["admin"])
    assert not verify_password(user.password_hash, PASSWORDS["admin"] + "x")
    assert not verify_password("not a hash", PASSWORDS["admin"])


def test_account_rules() -> None:
    assert check_account(" Budi.S ", "dinkominfo", None) == "budi.s"
    for bad in (
        ("b", "dinkominfo", None),
        ("budi", "camat", None),
        ("budi", "kecamatan", None),
        ("budi", "kecamatan", "33.03"),
        ("budi", "dinkominfo", KEC_A),
    ):
        with pytest.raises(AuthError):
            check_account(*bad)


def test_login_throttle_counts_per_pair_and_address_within_the_window() -> None:
    now = [0.0]
    throttle = LoginThrottle(limit=5, window=900, clock=lambda: now[0])
    for _ in range(5):
        assert throttle.retry_after("ani", "10.0.0.1") == 0
        throttle.failed("ani", "10.0.0.1")
    assert throttle.retry_after("ANI", "10.0.0.1") == pytest.approx(900)  # the pair is locked
    assert throttle.retry_after("budi", "10.0.0.1") == pytest.approx(900)  # so is the address
    assert throttle.retry_after("ani", "10.9.9.9") == 0  # the name, from elsewhere, is not
    now[0] = 901
    assert throttle.retry_after("ani", "10.0.0.1") == 0  # the window has passed


def test_next_urls_stay_on_this_site() -> None:
    assert safe_next("/desa/33.03.01.2001#temuan") == "/desa/33.03.01.2001#temuan"
    for hostile in ("https://jahat.example/", "//jahat.example", "/\\jahat.example", "admin", None):
        assert safe_next(hostile) == "/admin"


def test_secret_key_file_is_created_private_and_env_wins(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    key = load_secret_key(path, environ={})
    assert len(key) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(path, environ={}) == key  # kept across restarts
    assert load_secret_key(path, environ={"SIPANDE_SECRET_KEY": "k" * 40}) == "k" * 40
    with pytest.raises(AuthError):
        load_secret_key(path, environ={"SIPANDE_SECRET_KEY": "short"})


def test_session_cookie_flags(site: Site, browser: Browser) -> None:
    resp = login(browser("10.0.0.2"), "admin")
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "max-age=43200" in cookie
    secure = middleware(Settings(secure_cookies=True), site.store, "k" * 40)[0]
    assert secure.kwargs["https_only"] is True


# --- actions: login, CSRF, scope ------------------------------------------------------------


def test_actions_without_a_session_go_to_the_login_page(site: Site, browser: Browser) -> None:
    c = browser()
    before = next_check(site.store, VIL_A)
    for path in (
        f"/admin/temuan/{site.findings[VIL_A]}/akui",
        f"/admin/desa/{VIL_A}/periksa",
        "/admin/ambang",
    ):
        resp = c.post(path, data={"csrf": "tebakan"})
        assert resp.status_code == 303 and resp.headers["location"] == "/masuk", path
    resp = c.get("/admin")
    assert resp.status_code == 303 and resp.headers["location"] == "/masuk?next=/admin"
    assert acknowledged(site.store, site.findings[VIL_A]) == (None, None)
    assert next_check(site.store, VIL_A) == before


def test_every_post_needs_the_sessions_csrf_token(site: Site, browser: Browser) -> None:
    admin = logged_in(browser, "admin")
    other = logged_in(browser, "opa", ip="10.0.0.3")
    stolen = csrf(other, "/admin")  # valid, but for another session
    posts = [
        f"/admin/temuan/{site.findings[VIL_A]}/akui",
        f"/admin/desa/{VIL_A}/periksa",
        "/admin/ambang",
        "/keluar",
    ]
    forms = [{"csrf": stolen}, {}, {"csrf": ""}, {"csrf": "salah"}]
    for i, path in enumerate(posts):
        for form in forms if i == 0 else forms[:1]:  # every variant once, the worst for all
            resp = admin.post(path, data=form)
            assert resp.status_code == 403, (path, form)
            assert "tidak sah" in resp.text
    assert acknowledged(site.store, site.findings[VIL_A]) == (None, None)
    assert admin.get("/admin").status_code == 200  # still logged in: /keluar was refused
    # The login form is protected too (login CSRF).
    resp = browser().post("/masuk", data={"username": "admin", "password": "x"})
    assert resp.status_code == 403


def test_a_kecamatan_operator_stays_in_its_kecamatan(site: Site, browser: Browser) -> None:
    opa = logged_in(browser, "opa", ip="10.0.0.4")
    own = opa.get("/admin")
    assert own.status_code == 200 and "Kelola Kecamatan Kemangkon" in own.text
    assert f'data-finding-id="{site.findings[VIL_A]}"' in own.text
    assert f'data-finding-id="{site.findings[VIL_B]}"' not in own.text
    assert opa.get(f"/admin/kecamatan/{KEC_A}").status_code == 200
    denied = opa.get(f"/admin/kecamatan/{KEC_B}")
    assert denied.status_code == 403 and "kecamatan Anda sendiri" in denied.text
    token = csrf(opa, "/admin")
    before = next_check(site.store, VIL_B)
    for path in (f"/admin/temuan/{site.findings[VIL_B]}/akui", f"/admin/desa/{VIL_B}/periksa"):
        resp = opa.post(path, data={"csrf": token})
        assert resp.status_code == 403, path
    assert acknowledged(site.store, site.findings[VIL_B]) == (None, None)
    assert next_check(site.store, VIL_B) == before
    assert opa.post("/admin/ambang", data={"csrf": token}).status_code == 403
    # Its own village's page offers the buttons; the other kecamatan's does not.
    assert "Periksa ulang sekarang" in opa.get(f"/desa/{VIL_A}").text
    assert "Periksa ulang sekarang" not in opa.get(f"/desa/{VIL_B}").text


def test_acknowledge_records_who_and_when(site: Site, browser: Browser) -> None:
    opa = logged_in(browser, "opa", ip="10.0.0.5")
    page = opa.get(f"/desa/{VIL_A}")
    form = re.search(r'action="(/admin/temuan/\d+/akui)"', page.text)
    assert form and form.group(1) == f"/admin/temuan/{site.findings[VIL_A]}/akui"
    start = datetime.now(UTC)
    resp = opa.post(form.group(1), data={"csrf": csrf(opa, "/admin"), "next": f"/desa/{VIL_A}"})
    assert resp.status_code == 303 and resp.headers["location"] == f"/desa/{VIL_A}"
    who, when = acknowledged(site.store, site.findings[VIL_A])
    assert who == "opa" and when is not None and start - timedelta(seconds=1) <= when
    back = opa.get(resp.headers["location"]).text
    assert "Temuan sudah diakui" in back and "Diakui oleh opa" in back  # flash, then the record
    assert f"/admin/temuan/{site.findings[VIL_A]}/akui" not in back
    assert "opa," in opa.get("/admin").text


def test_dinkominfo_acts_everywhere_and_repoll_makes_the_village_due(
    site: Site, browser: Browser
) -> None:
    admin = logged_in(browser, "admin", ip="10.0.0.6")
    assert admin.get(f"/admin/kecamatan/{KEC_B}").status_code == 200
    token = csrf(admin, "/admin")
    resp = admin.post(f"/admin/temuan/{site.findings[VIL_B]}/akui", data={"csrf": token})
    assert resp.status_code == 303 and resp.headers["location"] == "/admin"
    assert acknowledged(site.store, site.findings[VIL_B])[0] == "admin"

    postpone(site.store, VIL_B, datetime.now(UTC) + timedelta(hours=5))
    assert VIL_B not in [v.code for v in site.store.due_villages(datetime.now(UTC))]
    resp = admin.post(f"/admin/desa/{VIL_B}/periksa", data={"csrf": token, "next": "/admin"})
    assert resp.status_code == 303
    assert VIL_B in [v.code for v in site.store.due_villages(datetime.now(UTC))]
    assert "diperiksa ulang" in admin.get("/admin").text


def test_repoll_waits_when_the_site_asked_us_to(site: Site) -> None:
    now = datetime.now(UTC)
    later = now + timedelta(minutes=20)
    postpone(site.store, VIL_B, later)
    with Session(site.store.engine) as s:
        s.add(Check(village_code=VIL_B, started_at=now, ok=False, phase="http", status_code=429))
        s.commit()
    assert site.store.request_poll(VIL_B, now) == later
    assert next_check(site.store, VIL_B) == later
    assert site.store.request_poll("33.03.09.2999", now) is None


def test_hostile_village_content_is_escaped_on_the_admin_view(site: Site, browser: Browser) -> None:
    admin = logged_in(browser, "admin", ip="10.0.0.7")
    for path in ("/admin", f"/admin/kecamatan/{KEC_A}", f"/desa/{VIL_A}"):
        page = admin.get(path)
        assert page.status_code == 200, path
        assert "<script" not in page.text and "<img" not in page.text, path
        assert 'href="javascript:' not in page.text, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text, path
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert page.headers["cache-control"] == "no-store"  # it carries a CSRF token
    assert "Kedung&lt;script&gt;" in admin.get(f"/admin/kecamatan/{KEC_A}").text


def test_the_new_pages_keep_the_dashboards_accessibility_rules(
    site: Site, browser: Browser
) -> None:
    anonymous, admin = browser("10.0.0.11"), logged_in(browser, "admin", ip="10.0.0.12")
    pages = [(anonymous, "/masuk"), (admin, "/admin"), (admin, f"/admin/kecamatan/{KEC_A}"),
             (admin, "/admin/peringatan")]  # fmt: skip
    for c, path in pages:
        page = c.get(path)
        tree = HTMLParser(page.text)
        assert not tree.css("script") and " style=" not in page.text, path
        assert all(th.attributes.get("scope") in ("col", "row") for th in tree.css("th")), path
        for control in tree.css("form input:not([type=hidden])"):
            assert control.parent is not None and control.parent.tag == "label", control.html
        for form in tree.css("form[method=post]"):  # every form we draw carries the token
            assert form.css_first("input[name=csrf]") is not None, (path, form.html)


def test_the_alert_record_is_dinkominfo_only_and_escapes_errors(
    site: Site, browser: Browser
) -> None:
    from aggregator.alerts import AlertEvent
    from aggregator.alerts.outbox import record_send

    now = datetime.now(UTC)
    alerts = site.store.settings.alerts
    event = AlertEvent("test", "", "Uji coba peringatan", "test", "info", "", "", now.isoformat())
    record_send(site.store.engine, alerts, "tgram://123456789:AAEsecret/-100200", event, None, now)
    hostile = '<script>alert("galat")</script> HTTP 500'
    record_send(site.store.engine, alerts, "json://hook.example/x", event, hostile, now)
    page = logged_in(browser, "admin", ip="10.0.0.31").get("/admin/peringatan")
    assert page.status_code == 200
    rows = HTMLParser(page.text).css("#alert-sends tbody tr")
    assert [r.attributes["data-status"] for r in rows[:2]] == ["failed", "sent"]
    assert "terkirim" in rows[1].text() and "gagal" in rows[0].text()
    assert "AAEsecret" not in page.text  # tokens in target URLs are masked
    assert "&lt;script&gt;alert(&#34;galat&#34;)" in page.text and "<script>" not in page.text
    assert logged_in(browser, "opa", ip="10.0.0.32").get("/admin/peringatan").status_code == 403
    anonymous = browser("10.0.0.33").get("/admin/peringatan")
    assert anonymous.status_code == 303 and "/masuk" in anonymous.headers["location"]


def test_thresholds_are_dinkominfo_only_and_override_the_file(site: Site, browser: Browser) -> None:
    admin = logged_in(browser, "admin", ip="10.0.0.8")
    form = {
        "active_days": "14",
        "low_activity_days": "60",
        "unreachable_after": "3",
        "scoring.weight_freshness": "40",
        "scoring.weight_cadence": "25",
        "scoring.weight_availability": "20",
        "scoring.weight_services": "15",
        "scoring.weight_engagement": "0",
    }
    bad = admin.post(
        "/admin/ambang", data={**form, "low_activity_days": "7", "csrf": csrf(admin, "/admin")}
    )
    assert bad.status_code == 400 and "lebih panjang" in bad.text
    assert site.store.settings.active_days == 30
    resp = admin.post("/admin/ambang", data={**form, "csrf": csrf(admin, "/admin")})
    assert resp.status_code == 303
    assert site.store.threshold_overrides() == {
        "active_days": 14,
        "low_activity_days": 60,
        "scoring.weight_freshness": 40,
        "scoring.weight_engagement": 0,
    }  # values equal to the file's are not stored
    assert site.store.settings.active_days == 14
    assert site.store.settings.scoring.weight_engagement == 0
    site.store.settings = site.store.file_settings  # a config reload keeps the overrides
    assert site.store.settings.low_activity_days == 60
    resp = admin.post("/admin/ambang", data={"reset": "1", "csrf": csrf(admin, "/admin")})
    assert resp.status_code == 303 and site.store.threshold_overrides() == {}
    assert site.store.settings.active_days == 30


def test_threshold_form_rules() -> None:
    values, problems = parse_form({"active_days": "1,5", "scoring.weight_cadence": "x"})
    assert any("bilangan bulat" in p for p in problems) and any("angka" in p for p in problems)
    base = Settings()
    changed = apply_overrides(base, {"active_days": 10, "scoring.weight_services": 1, "old": 3})
    assert changed.active_days == 10 and changed.scoring.weight_services == 1
    assert changed.low_activity_days == base.low_activity_days and not values.get("active_days")


# --- logins ---------------------------------------------------------------------------------


def test_wrong_password_and_the_login_rate_limit(site: Site, browser: Browser) -> None:
    attacker = browser("10.6.6.6")
    token = csrf(attacker)
    for _ in range(5):
        resp = login(attacker, "rani", "bukan-sandinya", token)
        assert resp.status_code == 400 and "salah" in resp.text
    # That address is locked for the name, even with the right password...
    resp = login(attacker, "rani", token=token)
    assert resp.status_code == 429 and "Terlalu banyak percobaan masuk" in resp.text
    assert int(resp.headers["retry-after"]) > 800
    # ...and for every name; the owner, from another address, is not.
    assert login(attacker, "admin", token=token).status_code == 429
    assert login(browser("10.8.8.8"), "admin").status_code == 303
    assert login(browser("10.7.7.7"), "rani").status_code == 303


def test_logout_ends_the_session_and_its_copies(site: Site, browser: Browser) -> None:
    c = logged_in(browser, "opa", ip="10.0.0.9")
    copy = browser("10.0.0.10")
    copy.cookies.update(c.cookies)
    assert copy.get("/admin").status_code == 200
    resp = c.post("/keluar", data={"csrf": csrf(c, "/admin")})
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    assert c.get("/admin").status_code == 303
    assert copy.get("/admin").status_code == 303  # the copied cookie no longer works


def test_read_views_public_or_login_only(site: Site, browser: Browser) -> None:
    anonymous = browser()
    home = anonymous.get("/")
    assert home.status_code == 200 and "set-cookie" not in home.headers
    assert 'href="/masuk?next=/"' in home.text
    closed = create_app(Settings(public_dashboard=False), store=site.store, run_scheduler=False)
    with LiveServer(closed) as server:
        c = browser("10.0.1.1", server.url)
        for path in ("/", f"/desa/{VIL_A}", "/berita", "/ringkasan.csv"):
            resp = c.get(path)
            assert resp.status_code == 303 and resp.headers["location"].startswith("/masuk?next=/")
        assert c.get("/api/villages").status_code == 401
        for path in ("/masuk", "/healthz", "/static/sipande.css"):
            assert c.get(path).status_code == 200, path
        resp = login(c, "admin")
        assert resp.status_code == 303
        assert c.get("/").status_code == 200 and c.get("/api/villages").status_code == 200


# --- the command line -----------------------------------------------------------------------


def test_user_add_from_the_command_line_then_log_in(
    site: Site,
    browser: Browser,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {**os.environ, "SIPANDE_DATABASE_URL": site.db_url}
    cmd = [
        sys.executable,
        "-m",
        "aggregator",
        "user",
        "add",
        "Sari",
        "--role",
        "kecamatan",
        "--kecamatan",
        KEC_B,
        "--password-stdin",
    ]
    done = subprocess.run(
        cmd,
        input="sandi-sari-123\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert "User sari added" in done.stdout
    c = browser("10.0.2.1")
    assert login(c, "sari", "sandi-sari-123").status_code == 303
    assert "Kelola Kecamatan Bukateja" in c.get("/admin").text

    monkeypatch.setenv("SIPANDE_DATABASE_URL", site.db_url)
    assert sipande(["user", "list"]) == 0
    listed = capsys.readouterr().out
    assert "sari" in listed and KEC_B in listed and "admin" in listed
    monkeypatch.setattr("sys.stdin", _Stdin("sandi-sari-123\n"))
    assert (
        sipande(
            ["user", "add", "sari", "--role", "kecamatan", "--kecamatan", KEC_B, "--password-stdin"]
        )
        == 2
    )
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", _Stdin("sandi-baru-123\n"))
    assert (
        sipande(
            [
                "user",
                "add",
                "baru",
                "--role",
                "kecamatan",
                "--kecamatan",
                "33.03.99",
                "--password-stdin",
            ]
        )
        == 2
    )
    assert "No kecamatan 33.03.99" in capsys.readouterr().err
    assert sipande(["user", "add", "baru", "--role", "dinkominfo"]) == 2  # no terminal to ask on
    assert "--password-stdin" in capsys.readouterr().err
    assert sipande(["user", "remove", "sari"]) == 0
    assert c.get("/admin").status_code == 303  # a removed user's session ends at once
    assert sipande(["user", "remove", "sari"]) == 2


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def readline(self) -> str:
        return self.text

    def isatty(self) -> bool:
        return False
