"""Which `Host` and `Origin` a request may carry: the server's public origin, never the request's
own word for it.

A browser lured to a page on `evil.example`, whose name then resolves to this server (DNS
rebinding), sends `Host: evil.example` and `Origin: http://evil.example`: an Origin check that
compares the two accepts it. So the server's own names are fixed by configuration:

- `PUBLIC_ORIGIN` (e.g. https://chat.example.org) names the one public host;
- the loopback names (127.0.0.1, localhost, [::1]) with the port the server is bound to are
  always its own: a browser sends them only for a page loaded from that very address (the
  development install, a health check on the machine itself).

Allowed origins are PUBLIC_ORIGIN's, ALLOWED_ORIGINS, and the loopback origins above.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import Scope

__all__ = ["SiteNames"]

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _default_port(scheme: str) -> int:
    return 443 if scheme in ("https", "wss") else 80


class SiteNames:
    """The Host and Origin values this server answers to."""

    def __init__(self, public_origin: str | None, allowed_origins: Iterable[str]) -> None:
        self.public_origin = public_origin
        self.public_hosts: frozenset[str] = frozenset()
        if public_origin is not None:
            parts = urlsplit(public_origin)
            host = parts.netloc.lower()
            name = host if parts.port is None else host.rsplit(":", 1)[0]
            port = parts.port or _default_port(parts.scheme)
            # A client may spell the default port out (`Host: chat.example.org:443`).
            self.public_hosts = frozenset({host, f"{name}:{port}"})
        self.origins = frozenset(
            o.lower() for o in (*allowed_origins, *([public_origin] if public_origin else []))
        )
        self._loopback: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

    def _loopback_for(self, port: int | None) -> tuple[frozenset[str], frozenset[str]]:
        """(hosts, origins) of the loopback names on `port`, built once per port."""
        key = port or 0
        found = self._loopback.get(key)
        if found is None:
            hosts = {f"{name}:{port}" for name in _LOOPBACK_NAMES} if port else set()
            if port in (None, 80):
                hosts.update(_LOOPBACK_NAMES)
            found = (frozenset(hosts), frozenset(f"http://{h}" for h in hosts))
            self._loopback[key] = found
        return found

    def host_allowed(self, scope: Scope) -> bool:
        """True when the request's Host is the public host or a loopback name with the bound
        port; a request without Host (HTTP/1.0) is refused."""
        host = _header(scope, b"host")
        if host is None:
            return False
        host = host.lower()
        if host in self.public_hosts:
            return True
        server = scope.get("server")
        port = server[1] if server and len(server) > 1 else None
        return host in self._loopback_for(port)[0]

    def origin_allowed(self, scope: Scope) -> bool:
        """True without Origin (not a browser) or when Origin is one of the allowed origins."""
        origin = _header(scope, b"origin")
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        if origin in self.origins:
            return True
        server = scope.get("server")
        port = server[1] if server and len(server) > 1 else None
        return origin in self._loopback_for(port)[1]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1").strip()
            return text
    return None
