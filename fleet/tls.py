"""Self-made certificates for the TLS faults: one throwaway CA per process, a leaf for
the loopback names that has expired, and a valid leaf for another name.

Made lazily with `trustme` (a dev dependency): the fleet imports and runs without it as long
as no village uses a tls_* behaviour. Nothing trusts this CA by default: the poller's httpx
context (certifi, or SSL_CERT_FILE when set) rejects the chain as "unable to get local issuer
certificate", which is already the TLS failure to record. To see the specific reason (expired,
wrong name), a client trusts the CA: `Fleet.trust_tls(ctx)` on an `ssl.SSLContext`, or for a
poller in a subprocess or a Fetcher, `SSL_CERT_FILE` set to a file holding `Fleet.tls_ca_pem()`
(httpx reads it when it builds its default context).
"""

from __future__ import annotations

import functools
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any

# The names the expired certificate is (was) valid for; url() uses the first.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# The only name the otherwise valid certificate of tls_wrong_name is for.
WRONG_NAME = "bukan-desa-ini.example"


class _Authority:
    def __init__(self) -> None:
        try:
            import trustme
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "the tls_expired and tls_wrong_name behaviours need `trustme` "
                "(pip install -e '.[dev]')"
            ) from exc
        now = datetime.now(UTC)
        self.ca: Any = trustme.CA(organization_name="Sipande simulated fleet (untrusted)")
        expired = self.ca.issue_cert(
            *LOOPBACK_NAMES,
            not_before=now - timedelta(days=400),
            not_after=now - timedelta(days=35),
        )
        wrong = self.ca.issue_cert(WRONG_NAME)
        self.contexts: dict[str, ssl.SSLContext] = {}
        for behaviour, leaf in (("tls_expired", expired), ("tls_wrong_name", wrong)):
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            leaf.configure_cert(context)
            self.contexts[behaviour] = context


@functools.cache
def authority() -> _Authority:
    """The process's fleet CA and server contexts (made on first use)."""
    return _Authority()


def server_context(behaviour: str) -> ssl.SSLContext:
    """The server-side context of a tls_* behaviour."""
    return authority().contexts[behaviour]


def ca_pem() -> bytes:
    """The fleet CA certificate, PEM."""
    pem: bytes = authority().ca.cert_pem.bytes()
    return pem


def trust(context: ssl.SSLContext) -> None:
    """Make a client context trust the fleet CA (in addition to what it trusts already)."""
    authority().ca.configure_trust(context)
