"""The per-site cookie jar (aggregator.fetch.cookies): bounded, per host, deletions honoured."""

from __future__ import annotations

from datetime import UTC, datetime

from aggregator.fetch.cookies import MAX_COOKIES, SiteJar, cookie_header, merge_set_cookies

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def test_set_cookie_attributes_are_dropped_and_deletions_honoured() -> None:
    jar = merge_set_cookies(
        {},
        ["ci_session=abc; path=/; HttpOnly", "sidcsrf=x1; expires=Wed, 01 Jan 2099 00:00:00 GMT"],
        NOW,
    )
    assert jar == {"ci_session": "abc", "sidcsrf": "x1"}
    jar = merge_set_cookies(jar, ["ci_session=new; path=/"], NOW)
    assert jar["ci_session"] == "new"
    jar = merge_set_cookies(jar, ["sidcsrf=gone; Max-Age=0"], NOW)
    jar = merge_set_cookies(jar, ["ci_session=x; expires=Thu, 01 Jan 1970 00:00:00 GMT"], NOW)
    assert jar == {}
    assert cookie_header({"a": "1", "b": "2"}) == "a=1; b=2"
    assert cookie_header({}) is None


def test_hostile_set_cookie_headers_are_bounded_or_refused() -> None:
    many = [f"c{i}=v" for i in range(50)]
    assert len(merge_set_cookies({}, many, NOW)) == MAX_COOKIES
    assert merge_set_cookies({}, ["big=" + "x" * 10_000], NOW) == {}
    assert merge_set_cookies({}, ["novalue", "=anon", "bad name=1", "ok=1"], NOW) == {"ok": "1"}


def test_jar_is_per_host_and_bounded_least_recently_used_first() -> None:
    jar = SiteJar(max_hosts=2)
    jar.learn("http://a.desa.id/x", ["s=1"])
    jar.learn("https://a.desa.id/y", ["t=2"])  # same host, other scheme
    jar.learn("http://a.desa.id:8080/", ["u=3"])  # another port is another site
    assert jar.header_for("http://a.desa.id/") == "s=1; t=2"
    assert jar.header_for("http://b.desa.id/") is None
    jar.learn("http://b.desa.id/", ["s=b"])
    jar.header_for("http://a.desa.id/")  # a used last
    jar.learn("http://c.desa.id/", ["s=c"])
    assert len(jar) == 2
    assert jar.for_host("b.desa.id") == {}
    assert jar.header_for("http://a.desa.id:8080/") is None  # dropped with b (LRU)
    assert jar.snapshot(["http://a.desa.id/", "http://c.desa.id/z"]) == {
        "a.desa.id": {"s": "1", "t": "2"},
        "c.desa.id": {"s": "c"},
    }


def test_seed_from_the_store_never_overrides_a_newer_session() -> None:
    jar = SiteJar()
    jar.learn("http://a.desa.id/", ["s=newer"])
    jar.seed({"a.desa.id": {"s": "older"}, "B.desa.id": {"s": "kept"}, "c": "not a mapping"})  # type: ignore[dict-item]
    assert jar.for_host("a.desa.id") == {"s": "newer"}
    assert jar.for_host("b.desa.id") == {"s": "kept"}
    assert jar.for_host("c") == {}
