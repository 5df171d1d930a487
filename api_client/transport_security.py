"""Whether a token would travel in clear text: plain `http://` to a host that is not this machine.

A token sent over plain http to another host can be read by anyone on the path; to this machine
(127.0.0.0/8, ::1, `localhost`) it never leaves the host. The client warns once per process
(`InsecureTransportWarning`, through `warnings`); the app and the command show the same words.
No network and no name lookup here: the decision is made from the URL alone.
"""

from __future__ import annotations

import ipaddress
import threading
import warnings
from urllib.parse import urlsplit

__all__ = [
    "InsecureTransportWarning",
    "cleartext_host",
    "insecure_transport",
    "is_loopback_url",
    "warn_insecure_transport",
]


class InsecureTransportWarning(UserWarning):
    """A token is sent over plain http to a host that is not this machine."""


_lock = threading.Lock()
_warned = False


def is_loopback_url(url: str) -> bool:
    """True when `url`'s host is this machine: an address in 127.0.0.0/8, ::1 (also as an
    IPv4-mapped address) or the name `localhost`."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host.rstrip(".") == "localhost":  # hostname is already lower-case
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def cleartext_host(url: str) -> str | None:
    """The `host:port` a token sent to `url` reaches in clear text (plain http, not this machine);
    None when it does not."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or is_loopback_url(url):
        return None
    return parts.netloc.rpartition("@")[2]  # never repeat a password given in the URL


def insecure_transport(url: str) -> str | None:
    """What to tell the user when a token sent to `url` travels in clear text; None when it does
    not (https, or plain http to this machine)."""
    host = cleartext_host(url)
    if host is None:
        return None
    return (
        f"the token is sent over plain http to {host}: anyone on the network path can read it; "
        "use an https:// address (the server: hotline serve --tls-cert/--tls-key)"
    )


def warn_insecure_transport(url: str, *, stacklevel: int = 2) -> bool:
    """Warn (`InsecureTransportWarning`) when a token sent to `url` travels in clear text, at most
    once per process; True when this call warned."""
    global _warned
    message = insecure_transport(url)
    if message is None:
        return False
    with _lock:
        if _warned:
            return False
        _warned = True
    warnings.warn(message, InsecureTransportWarning, stacklevel=stacklevel + 1)
    return True
