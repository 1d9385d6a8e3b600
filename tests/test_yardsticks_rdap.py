"""RDAP client for domain expiry, against an RDAP server on loopback (RFC 9083 JSON)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from aggregator.fetch.client import Fetcher
from aggregator.settings import Settings
from aggregator.yardsticks.rdap import (
    DomainCheck,
    RdapClient,
    parse_rdap_domain,
    registered_domain,
)
from tests.conftest import RawServer, response

NOW = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)


def _domain(name: str, expires: str) -> bytes:
    """A domain object as a registry answers it (RFC 9083 §5.3; events §4.5)."""
    doc = {
        "rdapConformance": ["rdap_level_0"],
        "objectClassName": "domain",
        "handle": f"{name.upper()}-ID",
        "ldhName": name,
        "status": ["active", "client transfer prohibited"],
        "events": [
            {"eventAction": "registration", "eventDate": "2018-04-02T03:04:05Z"},
            {"eventAction": "last changed", "eventDate": "2025-04-02T03:04:05Z"},
            {"eventAction": "expiration", "eventDate": expires},
        ],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": "ns1.example.net"}],
    }
    return json.dumps(doc).encode()


async def _registry(
    method: str, path: str, headers: dict[str, str], w: asyncio.StreamWriter
) -> None:
    kind = {"content-type": "application/rdap+json"}
    if path == "/rdap/domain/sukamaju.desa.id":
        w.write(response(200, _domain("sukamaju.desa.id", "2026-04-10T00:00:00Z"), kind))
    elif path == "/rdap/domain/karangsari.desa.id":
        w.write(response(200, _domain("karangsari.desa.id", "2026-03-01T00:00:00+07:00"), kind))
    elif path == "/rdap/domain/kosong.desa.id":
        w.write(response(200, json.dumps({"objectClassName": "domain"}).encode(), kind))
    elif path == "/bootstrap/domain/sukamaju.desa.id":
        # rdap.org answers every name with a redirect to the registry's own server.
        w.write(response(302, b"", {"location": "/rdap/domain/sukamaju.desa.id"}))
    else:
        error = {"errorCode": 404, "title": "Not Found"}
        w.write(response(404, json.dumps(error).encode(), kind))


def _lookup(*names: str, path: str = "/rdap") -> tuple[list[DomainCheck], list[str]]:
    async def main() -> tuple[list[DomainCheck], list[str]]:
        async with RawServer(_registry) as server:
            settings = Settings(allow_private_addresses=True, request_timeout=5)
            async with Fetcher(settings) as fetcher:
                client = RdapClient(fetcher, server.url + path)
                checks = [await client(n) for n in names]
            accepts = [h.get("accept", "") for _, _, h in server.requests]
        return checks, accepts

    return asyncio.run(main())


def test_expiry_days_from_the_expiration_event() -> None:
    (check,), accepts = _lookup("sukamaju.desa.id")
    assert check.found and check.status == ("active", "client transfer prohibited")
    assert check.expires_at == datetime(2026, 4, 10, tzinfo=UTC)
    assert check.days_left(NOW) == 25
    assert accepts == ["application/rdap+json, application/json"]


def test_an_expired_domain_has_negative_days() -> None:
    (check,), _ = _lookup("karangsari.desa.id")
    assert check.days_left(NOW) == -15


def test_a_bootstrap_redirect_is_followed() -> None:
    (check,), _ = _lookup("sukamaju.desa.id", path="/bootstrap")
    assert check.days_left(NOW) == 25


def test_unknown_and_incomplete_answers_are_unknown_not_expired() -> None:
    (missing, empty), _ = _lookup("hilang.desa.id", "kosong.desa.id")
    assert (missing.found, missing.days_left(NOW)) == (False, None)
    assert missing.detail == "RDAP: domain not found (HTTP 404)"
    assert (empty.found, empty.days_left(NOW)) == (True, None)
    assert empty.detail == "RDAP answer has no expiration event"


def test_only_configured_suffixes_are_looked_up() -> None:
    (check,), accepts = _lookup("desa-contoh.com")
    assert (check.found, accepts) == (False, [])


def test_a_server_that_is_down_gives_a_reason() -> None:
    async def main() -> DomainCheck:
        async with Fetcher(Settings(allow_private_addresses=True, connect_timeout=1)) as f:
            return await RdapClient(f, "http://127.0.0.1:9/rdap")("sukamaju.desa.id")

    check = asyncio.run(main())
    assert not check.found and check.detail.startswith("RDAP: ")


def test_parse_rejects_what_is_not_a_domain_object() -> None:
    assert parse_rdap_domain("a.desa.id", b"<html>").detail == "RDAP answer is not JSON"
    entity = json.dumps({"objectClassName": "entity"}).encode()
    assert not parse_rdap_domain("a.desa.id", entity).found


def test_registered_domain() -> None:
    cases = {
        "www.sukamaju.desa.id": "sukamaju.desa.id",
        "sukamaju.desa.id": "sukamaju.desa.id",
        "sukamaju-purbalingga.desa.id": "sukamaju-purbalingga.desa.id",
        "desa.purbalinggakab.go.id": "purbalinggakab.go.id",
        "sukamaju.id": "sukamaju.id",
        "blog.desa-contoh.com": "desa-contoh.com",
        "127.0.0.1": None,
        "::1": None,
        "localhost": None,
        None: None,
    }
    assert {k: registered_domain(k) for k in cases} == cases
