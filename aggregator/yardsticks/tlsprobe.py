"""A passive TLS probe: one handshake to host:port, and the peer certificate (validity dates,
names, issuer) read even when it does not verify, with why it does not.

The fetcher verifies and hides certificates, so this is its own small client. It keeps the
fetcher's rule against private targets: a village url must not make us probe the intranet.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from aggregator.fetch.client import is_public_address
from aggregator.yardsticks.common import days_until

log = logging.getLogger(__name__)

# OpenSSL verify codes (X509_V_ERR_*) worth telling apart for a village officer.
_PROBLEMS = {
    9: "not_yet_valid",
    10: "expired",
    18: "self_signed",
    19: "self_signed",
    62: "wrong_name",
    64: "wrong_name",  # IP address mismatch
}
# `problem` values: None when the certificate verifies; "no_https" (nothing speaks TLS on the
# port), "dns"/"blocked"/"unreachable" (we could not tell), or a certificate problem.
UNKNOWN_PROBLEMS = ("dns", "blocked")


@dataclass(frozen=True)
class Certificate:
    subject: str | None  # common name
    names: tuple[str, ...]  # subjectAltName DNS names and IP addresses
    issuer: str | None  # organisation (else common name) of the issuer
    not_before: datetime
    not_after: datetime

    def days_left(self, now: datetime) -> int:
        return days_until(self.not_after, now)

    def matches(self, host: str) -> bool:
        """Whether the certificate names `host` (one-label wildcards, IP SANs)."""
        host = host.lower().rstrip(".")
        names = self.names or ((self.subject,) if self.subject else ())
        return any(_name_matches(n.lower(), host) for n in names)


@dataclass(frozen=True)
class TlsCheck:
    """What one probe learned; `offered` with `verified` False still carries the certificate."""

    host: str
    port: int
    offered: bool  # a TLS handshake completed (with or without verification)
    verified: bool  # chain, dates and name check out against the trust store
    problem: str | None
    detail: str  # the technical message behind `problem` (OpenSSL's, in English)
    certificate: Certificate | None = None


def _name_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    value = attrs[0].value if attrs else None
    return value if isinstance(value, str) else None


def parse_certificate(der: bytes) -> Certificate:
    """The fields we report from a DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        names += san.get_values_for_type(x509.DNSName)
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    issuer = _first(cert.issuer, NameOID.ORGANIZATION_NAME) or _first(
        cert.issuer, NameOID.COMMON_NAME
    )
    return Certificate(
        subject=_first(cert.subject, NameOID.COMMON_NAME),
        names=tuple(names),
        issuer=issuer,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def _unverified_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TlsProber:
    """`await prober.probe(host, port)`; `context` is the trust store (tests pass their own CA),
    `hosts` a static host table consulted before DNS, as the fetcher's."""

    def __init__(
        self,
        *,
        context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
        allow_private: bool = False,
        address_policy: Callable[[str], bool] = is_public_address,
        hosts: Mapping[str, str] | None = None,
    ) -> None:
        self._context = context or ssl.create_default_context()
        self._timeout = timeout
        self._allow_private = allow_private
        self._policy = address_policy
        self._hosts = {k.lower(): v for k, v in (hosts or {}).items()}

    async def __call__(self, host: str, port: int) -> TlsCheck:
        return await self.probe(host, port)

    async def _resolve(self, host: str, port: int) -> str:
        if host.lower() in self._hosts:
            return self._hosts[host.lower()]
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return host
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return str(infos[0][4][0])

    async def _handshake(
        self, address: str, port: int, host: str, ctx: ssl.SSLContext
    ) -> bytes | None:
        async with asyncio.timeout(self._timeout):
            _, writer = await asyncio.open_connection(address, port, ssl=ctx, server_hostname=host)
        try:
            sslobj = writer.get_extra_info("ssl_object")
            return sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        finally:
            writer.close()
            # A server that drops the connection rudely at close is no finding.
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def probe(self, host: str, port: int = 443) -> TlsCheck:
        def result(problem: str | None, detail: str, der: bytes | None = None) -> TlsCheck:
            cert = None
            if der:
                try:
                    cert = parse_certificate(der)
                except ValueError as e:
                    detail += f"; certificate unreadable: {e}"
            offered = problem not in ("no_https", "unreachable", *UNKNOWN_PROBLEMS)
            return TlsCheck(host, port, offered, problem is None, problem, detail, cert)

        try:
            address = await self._resolve(host, port)
        except (OSError, TimeoutError, UnicodeError) as e:
            return result("dns", f"cannot resolve {host}: {e}")
        if not self._allow_private and not self._policy(address):
            return result("blocked", f"{host} resolves to non-public address {address}")
        try:
            der = await self._handshake(address, port, host, self._context)
            return result(None, "certificate verifies", der)
        except ssl.SSLCertVerificationError as e:
            problem = _PROBLEMS.get(e.verify_code, "untrusted")
            detail = e.verify_message or str(e)
        except ssl.SSLError as e:
            # e.g. WRONG_VERSION_NUMBER: the port answers plain HTTP, not TLS.
            return result("no_https", f"TLS handshake failed: {e.reason or e}")
        except TimeoutError:
            return result("no_https", f"no TLS answer within {self._timeout:g}s")
        except ConnectionRefusedError as e:
            return result("no_https", f"connection refused: {e}")
        except OSError as e:
            return result("unreachable", f"cannot connect: {e}")
        # Verification failed: shake hands again without it, only to read the certificate.
        try:
            der = await self._handshake(address, port, host, _unverified_context())
        except (OSError, TimeoutError) as e:
            log.info("tls %s:%d: certificate unreadable after %s: %s", host, port, problem, e)
            der = None
        return result(problem, detail, der)
