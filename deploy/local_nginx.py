"""Render deploy/nginx.conf for a local run without Docker: loopback upstreams, no root paths.

The compose deployment and this local topology use the same file; only the `upstream` server
lines, the `listen` lines, the server name (`${NGINX_SERVER_NAME}`, which the nginx image fills
in from its environment in compose) and the process paths (pid, error log, temp directories)
change. Every `location` block is kept as written, so what runs locally is what runs in compose.

    python deploy/local_nginx.py --listen 127.0.0.1:8080 \
        --upstream 127.0.0.1:8001 --upstream 127.0.0.1:8002 --dir /tmp/psc-nginx
    /usr/sbin/nginx -p /tmp/psc-nginx -c /tmp/psc-nginx/nginx.conf
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SOURCE", "render", "write"]

SOURCE = Path(__file__).resolve().parent / "nginx.conf"

_UPSTREAM_SERVER = re.compile(r"^([ \t]*)server[ \t]+app\d+:8000\b([^;\n]*);[ \t]*\n", re.M)
_LISTEN = re.compile(r"^([ \t]*)listen[ \t]+80((?:[ \t]+default_server)?);", re.M)
SERVER_NAME = "${NGINX_SERVER_NAME}"
_PID = re.compile(r"^pid[ \t]+[^;\n]+;", re.M)
_ERROR_LOG = re.compile(r"^error_log[ \t]+[^;\n]+;", re.M)
_WORKERS = re.compile(r"^worker_processes[ \t]+[^;\n]+;", re.M)
_HTTP = re.compile(r"^http[ \t]*\{[ \t]*\n", re.M)
_TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def _sub_once(pattern: re.Pattern[str], repl: str, text: str, what: str) -> str:
    new, count = pattern.subn(lambda _: repl, text)
    if count != 1:
        raise ValueError(f"deploy/nginx.conf: expected one {what}, found {count}")
    return new


def render(
    source: str,
    *,
    listen: str,
    upstreams: Sequence[str],
    workdir: Path,
    error_level: str = "warn",
    workers: int = 1,
    server_name: str = "127.0.0.1 localhost",
) -> str:
    """The config `source` rewritten to run as an ordinary foreground process in `workdir`,
    answering for `server_name` (nginx names, space-separated; any other Host gets 444).

    One worker by default: connections then alternate between the upstreams in order
    (round-robin state is per worker), which the topology test relies on.
    """
    if not upstreams:
        raise ValueError("at least one upstream is needed")
    matches = list(_UPSTREAM_SERVER.finditer(source))
    if not matches:
        raise ValueError("deploy/nginx.conf: no `server appN:8000` lines in the upstream block")
    indent, params = matches[0].group(1), matches[0].group(2)
    servers = "".join(f"{indent}server {addr}{params};\n" for addr in upstreams)
    text = (
        source[: matches[0].start()]
        + servers
        + _UPSTREAM_SERVER.sub("", source[matches[0].start() :])
    )
    if not re.fullmatch(r"[\w.\-\[\]: *~^]+", server_name):
        raise ValueError(f"not an nginx server_name: {server_name!r}")
    text, count = _LISTEN.subn(lambda m: f"{m.group(1)}listen {listen}{m.group(2)};", text)
    if count != 2 or " default_server;" not in text:
        raise ValueError(
            f"deploy/nginx.conf: expected `listen 80 default_server;` and `listen 80;`, "
            f"found {count} listen lines"
        )
    if text.count(SERVER_NAME) != 1:
        raise ValueError(f"deploy/nginx.conf: expected one `server_name {SERVER_NAME};`")
    text = text.replace(SERVER_NAME, server_name)
    text = _sub_once(_PID, f"pid {workdir / 'nginx.pid'};", text, "`pid`")
    text = _sub_once(
        _ERROR_LOG, f"error_log {workdir / 'error.log'} {error_level};", text, "`error_log`"
    )
    text = _sub_once(_WORKERS, f"worker_processes {workers};", text, "`worker_processes`")
    temp = "".join(f"    {kind}_temp_path {workdir / 'temp' / kind};\n" for kind in _TEMP_KINDS)
    text = _sub_once(_HTTP, "http {\n" + temp, text, "`http {`")
    head = "daemon off;\n"
    if os.geteuid() == 0:
        # As root nginx would switch its workers to `nobody`, who cannot enter `workdir`.
        user = pwd.getpwuid(0).pw_name
        head += f"user {user};\n"
    return head + text


def write(
    workdir: Path,
    *,
    listen: str,
    upstreams: Sequence[str],
    error_level: str = "warn",
    workers: int = 1,
    server_name: str = "127.0.0.1 localhost",
) -> Path:
    """Render SOURCE into `workdir`/nginx.conf (creating the temp directories) and return it."""
    for kind in _TEMP_KINDS:
        (workdir / "temp" / kind).mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(
        render(
            SOURCE.read_text(encoding="utf-8"),
            listen=listen,
            upstreams=upstreams,
            workdir=workdir,
            error_level=error_level,
            workers=workers,
            server_name=server_name,
        ),
        encoding="utf-8",
    )
    return conf


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listen", default="127.0.0.1:8080")
    parser.add_argument("--upstream", action="append", required=True, help="host:port, repeat")
    parser.add_argument("--dir", type=Path, required=True, help="working directory for nginx")
    parser.add_argument("--server-name", default="127.0.0.1 localhost", help="nginx server_name")
    args = parser.parse_args(argv)
    workdir: Path = args.dir.resolve()
    conf = write(workdir, listen=args.listen, upstreams=args.upstream, server_name=args.server_name)
    print(f"/usr/sbin/nginx -p {workdir} -c {conf}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
