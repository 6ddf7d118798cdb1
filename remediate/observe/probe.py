"""The opt-in active probe (`remediate diagnose --probe`): connect to each bootstrap broker and, where
the ESM uses TLS, verify the broker's certificate the way Lambda does.

Lambda verifies the broker's certificate against the SERVER_ROOT_CA_CERTIFICATE secret's bundle (or
public CAs) and checks that it names the host in the bootstrap string; AWS then reports only
"server failed to authenticate Lambda, or Lambda failed to authenticate server". The probe tells the
causes apart: host-name mismatch, unknown CA, expired or not-yet-valid certificate, refused port,
timeout. It runs from this machine, not from the ESM's VPC, so an unreachable broker says more about
where the tool runs than about the ESM; the findings say so.

Every broker is probed on its own daemon thread, each step bounded by `timeout`, and the whole probe by
a deadline: a black-holed broker costs the deadline and nothing more. Standard library only (plus
`cryptography` to describe the presented certificate).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterable

from cryptography import x509

from remediate.facts import TlsProbe
from remediate.kafka import split_server
from remediate.observe.secret_material import certificate_info

DEFAULT_TIMEOUT = 5.0
DEFAULT_PORT = 9092

# OpenSSL X509_V_ERR_* codes, grouped by what an operator must do about them.
_UNKNOWN_CA = frozenset({2, 18, 19, 20, 21})
_VERIFY_OUTCOMES: dict[int, str] = {
    9: "not-yet-valid",
    10: "expired",
    62: "hostname-mismatch",
    64: "hostname-mismatch",
    **dict.fromkeys(_UNKNOWN_CA, "unknown-ca"),
}


def _context(ca_pem: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _connect(host: str, port: int, timeout: float) -> socket.socket | TlsProbe:
    server = f"{host}:{port}"
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        return TlsProbe(
            server=server, outcome="unresolvable", detail=f"{host} does not resolve: {exc.strerror}"
        )
    except ConnectionRefusedError:
        return TlsProbe(server=server, outcome="refused", detail=f"connection to port {port} refused")
    except TimeoutError:
        return TlsProbe(server=server, outcome="timeout", detail=f"no TCP connection within {timeout:g}s")
    except OSError as exc:
        return TlsProbe(server=server, outcome="unreachable", detail=f"cannot connect: {exc.strerror or exc}")


def _presented(host: str, port: int, timeout: float) -> x509.Certificate | None:
    """The certificate the broker presents, fetched without verification (only to describe it)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None
    return x509.load_der_x509_certificate(der) if der else None


def _described(probe: TlsProbe, cert: x509.Certificate | None) -> TlsProbe:
    if cert is None:
        return probe
    info = certificate_info(cert)
    return probe.model_copy(
        update={"peer_subject": info.subject, "peer_names": info.dns_names, "peer_not_after": info.not_after}
    )


def probe_server(server: str, *, tls: bool, ca_pem: str | None, ca_source: str, timeout: float) -> TlsProbe:
    """Connect to one broker; with `tls`, handshake and verify its certificate and host name."""
    host, port_or_none = split_server(server)
    port = port_or_none or DEFAULT_PORT
    name = f"{host}:{port}"
    connected = _connect(host, port, timeout)
    if isinstance(connected, TlsProbe):
        return connected.model_copy(update={"tls": tls, "ca_source": ca_source})
    base = TlsProbe(server=name, outcome="ok", detail="", tls=tls, ca_source=ca_source)
    with connected as raw:
        if not tls:
            return base.model_copy(update={"detail": f"TCP connection to port {port} accepted"})
        raw.settimeout(timeout)
        try:
            with _context(ca_pem).wrap_socket(raw, server_hostname=host) as conn:
                der = conn.getpeercert(binary_form=True)
                return _described(
                    base.model_copy(
                        update={"detail": f"certificate verified against {ca_source} and matches {host}"}
                    ),
                    x509.load_der_x509_certificate(der) if der else None,
                )
        except ssl.SSLCertVerificationError as exc:
            outcome = _VERIFY_OUTCOMES.get(exc.verify_code, "untrusted")
            failed = base.model_copy(
                update={"outcome": outcome, "detail": f"{exc.verify_message} (verified against {ca_source})"}
            )
            return _described(failed, _presented(host, port, timeout))
        except TimeoutError:
            return base.model_copy(
                update={"outcome": "timeout", "detail": f"no TLS handshake within {timeout:g}s"}
            )
        except ssl.SSLError as exc:
            reason = str(exc.reason or "")
            if reason.endswith("CERTIFICATE_REQUIRED") or "ALERT_BAD_CERTIFICATE" in reason:
                return base.model_copy(
                    update={
                        "outcome": "client-auth-required",
                        "detail": "the broker's certificate was accepted; it then asked for a client "
                        "certificate, which the probe does not present",
                    }
                )
            if reason in ("WRONG_VERSION_NUMBER", "UNEXPECTED_EOF_WHILE_READING") or isinstance(
                exc, ssl.SSLEOFError
            ):
                return base.model_copy(
                    update={
                        "outcome": "not-tls",
                        "detail": f"port {port} does not speak TLS ({reason or exc})",
                    }
                )
            return base.model_copy(update={"outcome": "tls-error", "detail": f"TLS handshake failed: {exc}"})
        except OSError as exc:
            return base.model_copy(
                update={
                    "outcome": "not-tls",
                    "detail": f"the broker closed the connection during the "
                    f"TLS handshake ({exc.strerror or exc}): is port {port} a TLS listener?",
                }
            )


def probe_all(
    servers: Iterable[str],
    *,
    tls: bool,
    ca_pem: str | None,
    ca_source: str,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[TlsProbe, ...]:
    """Probe every broker concurrently; the whole probe ends by a deadline of a few `timeout`s."""
    names = list(dict.fromkeys(s.strip() for s in servers if s.strip()))
    results: dict[str, TlsProbe] = {}
    lock = threading.Lock()

    def work(server: str) -> None:
        outcome = probe_server(server, tls=tls, ca_pem=ca_pem, ca_source=ca_source, timeout=timeout)
        with lock:
            results[server] = outcome

    threads = [threading.Thread(target=work, args=(s,), daemon=True, name=f"probe-{s}") for s in names]
    for thread in threads:
        thread.start()
    # connect + handshake, and on failure one more connect + handshake to describe the certificate.
    deadline = time.monotonic() + 4 * timeout + 1
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        done = dict(results)
    return tuple(
        done.get(s)
        or TlsProbe(
            server=s,
            outcome="timeout",
            detail=f"no answer within {4 * timeout + 1:g}s",
            tls=tls,
            ca_source=ca_source,
        )
        for s in names
    )
