"""The deployment files agree with each other and with the app: compose, nginx, Dockerfile.

Docker does not run here, so the files are parsed and checked; nginx checks its config with
`nginx -t`, and the image's health check command is run against a real server process.
tests/test_nginx_topology.py runs the same topology (without Docker) and chats through it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.local_nginx import SOURCE as NGINX_CONF
from deploy.local_nginx import render, write
from server.settings import Settings, exposure_problems
from tests.conftest import AppServer
from tests.support import ROOT, free_port, require_binary, timeout, wait_until

COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

Service = dict[str, Any]


# --- helpers ---------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def services() -> dict[str, Service]:
    found: dict[str, Service] = compose()["services"]
    return found


def app_services() -> dict[str, Service]:
    """The chat server replicas: services built from this repository."""
    return {name: svc for name, svc in services().items() if "build" in svc}


def environment(service: Service) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` with `given` as the shell."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.group(1), match.group(2), match.group(3)
        if given.get(name):
            return given[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest or ""

    return _INTERPOLATION.sub(one, value)


def depends_on(service: Service) -> dict[str, dict[str, str]]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return dict(deps)


def nginx_text() -> str:
    """deploy/nginx.conf without comments."""
    return re.sub(r"#[^\n]*", "", NGINX_CONF.read_text(encoding="utf-8"))


def block(text: str, header: str) -> str:
    """The body of the first `header { ... }` block (braces balanced)."""
    start = re.search(re.escape(header) + r"\s*\{", text)
    assert start is not None, f"no `{header}` block in deploy/nginx.conf"
    depth, i = 1, start.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start.end() : i - 1]


def directives(body: str, name: str) -> list[str]:
    """The arguments of every `name ...;` directive in `body`, nested blocks included."""
    return [m.group(1).strip() for m in re.finditer(rf"(?:^|[;{{}}\s]){name}\s+([^;]*);", body)]


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value)
    assert match, f"not an nginx time: {value!r}"
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def instructions(name: str) -> list[str]:
    return [args for word, args in dockerfile() if word == name]


def healthcheck_script(test: list[str]) -> str:
    """The code of a `python -c CODE` health check."""
    assert test[0] in ("CMD", "CMD-SHELL") or test[0] == "python", test
    argv = test[1:] if test[0] == "CMD" else test
    assert argv[:2] == ["python", "-c"], f"health check is not `python -c`: {argv}"
    return argv[2]


async def run_check(code: str, port: int) -> int:
    """Run a health check script with the app's port swapped for `port`."""
    assert ":8000/healthz" in code
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code.replace(":8000/", f":{port}/"), stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(timeout(10)):
        await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_has_redis_two_replicas_and_nginx() -> None:
    svcs = services()
    assert {"redis", "redis-state", "nginx"} <= set(svcs)
    apps = app_services()
    assert len(apps) >= 2, f"expected at least two app replicas, got {sorted(apps)}"
    for name, svc in apps.items():
        build = svc["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert context in (".", "./"), f"{name} is not built from this repository"


def test_replicas_share_one_redis_and_one_secret_key() -> None:
    envs = {name: environment(svc) for name, svc in app_services().items()}
    redis_urls = {env.get("REDIS_URL") for env in envs.values()}
    state_urls = {env.get("REDIS_STATE_URL") for env in envs.values()}
    secret_keys = {env.get("SECRET_KEY") for env in envs.values()}
    assert len(redis_urls) == 1, f"replicas use different REDIS_URLs: {redis_urls}"
    assert len(state_urls) == 1, f"replicas use different REDIS_STATE_URLs: {state_urls}"
    assert len(secret_keys) == 1, f"replicas use different SECRET_KEYs: {secret_keys}"
    (url,) = redis_urls
    assert url is not None
    assert re.fullmatch(r"redis://redis:6379(/\d+)?", url), url
    (state_url,) = state_urls
    assert state_url is not None
    assert re.fullmatch(r"redis://redis-state:6379(/\d+)?", state_url), state_url
    (secret,) = secret_keys
    # Required, with no default in the file: every replica must sign with the operator's key.
    assert secret is not None
    assert secret.startswith("${SECRET_KEY:?"), secret
    with pytest.raises(KeyError, match="SECRET_KEY"):
        interpolate(secret, {})


def test_replica_environment_is_valid_app_configuration(tmp_path: Path) -> None:
    """What compose passes is accepted by Settings.from_env and names settings the app reads."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "server").rglob("*.py"))
    shell = {"SECRET_KEY": "Vq3xN8rT-k2Lw9YbZp4HcJ7uEf5sGd1MaQ6oRi0Xn_tyKzBvUe"}
    (cmd,) = instructions("CMD")
    argv = json.loads(cmd)
    bind = argv[argv.index("--host") + 1]
    for name, svc in app_services().items():
        env = {k: interpolate(v, shell) for k, v in environment(svc).items()}
        for key in env:
            assert f'"{key}"' in source, f"{name}: the server reads no setting named {key}"
        settings = Settings.from_env({**env, "SECRET_KEY_FILE": str(tmp_path / "unused")})
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.redis_state_url == "redis://redis-state:6379/0"
        assert settings.secret_keys == (shell["SECRET_KEY"],)
        # The image binds a reachable address: serve must accept what compose passes there.
        assert exposure_problems(settings, bind) == ([], []), name
        assert settings.public_origin == "http://localhost:8080"  # the quick start's address
        assert settings.trusted_proxies == (), "nginx forwards no client address to trust"
        assert settings.metrics_token is None, "no token given: /metrics stays closed"
        with_token = {**env, "METRICS_TOKEN": interpolate(environment(svc)["METRICS_TOKEN"],
                                                          {"METRICS_TOKEN": "m" * 20})}  # fmt: skip
        assert Settings.from_env(with_token).metrics_token == "m" * 20


def test_replicas_wait_for_redis_and_have_health_checks() -> None:
    svcs = services()
    for store in ("redis", "redis-state"):
        assert svcs[store].get("healthcheck"), f"{store} needs a health check for depends_on"
    for name, svc in app_services().items():
        for store in ("redis", "redis-state"):
            condition = depends_on(svc).get(store, {}).get("condition")
            assert condition == "service_healthy", (name, store)
        check = svc.get("healthcheck")
        assert check, f"{name} has no health check"
        assert "/healthz" in json.dumps(check["test"])


def _words(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return [str(w) for w in (command if isinstance(command, list) else command.split())]


def test_only_the_state_store_keeps_files_and_message_text_stays_in_memory() -> None:
    """Message text (history) lives on `redis`, which persists nothing; durable state on
    `redis-state`, with an append-only file on a volume."""
    history, state = services()["redis"], services()["redis-state"]
    for store in (history, state):
        assert str(store["image"]).startswith("redis:7")
        assert "ports" not in store, "Redis must not be published outside the compose network"
    words = _words(history)
    assert words[words.index("--appendonly") + 1] == "no"
    assert words[words.index("--save") + 1] == ""
    assert not history.get("volumes"), "the history store must keep nothing on a volume"
    assert "/data" in history.get("tmpfs", [])
    words = _words(state)
    assert words[words.index("--appendonly") + 1] == "yes"
    assert any(str(v).endswith(":/data") for v in state.get("volumes", []))


def test_nginx_service_mounts_the_config_and_waits_for_replicas() -> None:
    nginx = services()["nginx"]
    assert str(nginx["image"]).startswith("nginx")
    assert "8080:80" in [str(p) for p in nginx["ports"]]
    mounts = [str(v).split(":") for v in nginx["volumes"]]
    # A template of the nginx image: its entrypoint fills in the server name and writes
    # /etc/nginx/nginx.conf (only that variable: NGINX_ENVSUBST_FILTER).
    assert ["./deploy/nginx.conf", "/etc/nginx/templates/nginx.conf.template", "ro"] in mounts
    env = environment(nginx)
    assert env["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    assert re.fullmatch(env["NGINX_ENVSUBST_FILTER"].replace("$$", "$"), "NGINX_SERVER_NAME")
    # The default server name is the host of the apps' default PUBLIC_ORIGIN.
    name = interpolate(env["NGINX_SERVER_NAME"], {})
    for svc in app_services().values():
        origin = interpolate(environment(svc)["PUBLIC_ORIGIN"], {})
        assert origin.split("://", 1)[1].split(":")[0] == name
    deps = depends_on(nginx)
    for name in app_services():
        assert name in deps, f"nginx does not wait for {name}"
    for name, svc in app_services().items():
        assert "ports" not in svc, f"{name} is published: clients must come through nginx"


def test_nginx_upstream_lists_every_replica() -> None:
    upstream = block(nginx_text(), "upstream chat")
    hosts = {arg.split()[0] for arg in directives(upstream, "server")}
    assert hosts == {f"{name}:8000" for name in app_services()}


# --- deploy/nginx.conf -----------------------------------------------------------------------


def test_nginx_passes_websocket_upgrades_with_long_timeouts() -> None:
    text = nginx_text()
    mapping = block(text, "map $http_upgrade $connection_upgrade")
    assert re.search(r"default\s+upgrade;", mapping)
    ws = block(text, "location = /ws")
    assert "http://chat" in directives(ws, "proxy_pass")
    assert directives(ws, "proxy_http_version") == ["1.1"]
    headers = directives(ws, "proxy_set_header")
    assert "Upgrade $http_upgrade" in headers
    assert "Connection $connection_upgrade" in headers
    assert directives(ws, "proxy_buffering") == ["off"]
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = directives(ws, name)
        # Well past the server's 20 s WebSocket ping, so only dead sockets are cut.
        assert seconds(value) >= 3600, f"{name} {value} is too short for long-lived sockets"


def test_nginx_answers_only_its_server_name_and_never_serves_metrics() -> None:
    text = nginx_text()
    servers = [m.start() for m in re.finditer(r"\bserver\s*\{", text)]
    assert len(servers) == 2, "a default server and the chat server"
    default = block(text[servers[0] :], "server")
    assert directives(default, "listen") == ["80 default_server"]
    assert directives(default, "return") == ["444"]
    assert "proxy_pass" not in default
    chat = block(text[servers[1] :], "server")
    assert directives(chat, "listen") == ["80"]
    assert directives(chat, "server_name") == ["${NGINX_SERVER_NAME}"]
    assert directives(block(chat, "location = /metrics"), "return") == ["404"]


def test_prometheus_scrapes_every_replica_with_the_metrics_token() -> None:
    prometheus = services()["prometheus"]
    assert prometheus.get("profiles") == ["monitoring"]
    mounts = [str(v).split(":") for v in prometheus["volumes"]]
    assert ["./deploy/prometheus.yml", "/etc/prometheus/prometheus.yml", "ro"] in mounts
    assert all(str(p).startswith("127.0.0.1:") for p in prometheus.get("ports", []))
    assert prometheus["secrets"] == ["metrics_token"]
    assert compose()["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    for svc in app_services().values():
        assert environment(svc)["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/run/secrets/metrics_token",
    }
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{name}:8000" for name in app_services()}


def test_nginx_passes_host_with_port_and_no_client_address() -> None:
    text = nginx_text()
    for header in ("location /", "location = /ws"):
        loc = block(text, header)
        headers = directives(loc, "proxy_set_header")
        # $host drops the port, and the app compares Host, port included, with PUBLIC_ORIGIN.
        assert "Host $http_host" in headers, header
        for name in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
            assert f'{name} ""' in headers, f"{header} must clear {name}"


def test_nginx_stores_no_client_address() -> None:
    text = nginx_text()
    assert directives(block(text, "http"), "access_log") == ["off"]
    assert len(directives(text, "access_log")) == 1, "another access_log would store addresses"
    for variable in ("$remote_addr", "$proxy_add_x_forwarded_for", "$realip", "$binary_remote"):
        assert variable not in text
    assert "log_format" not in text
    # Every nginx error line names the client: keep only nginx's own critical failures.
    (error_log,) = directives(text, "error_log")
    assert error_log.split()[-1] in ("crit", "alert", "emerg"), error_log


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    nginx = require_binary("nginx")
    conf = write(
        tmp_path, listen=f"127.0.0.1:{free_port()}", upstreams=["127.0.0.1:1", "127.0.0.1:2"]
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=timeout(10),
    )
    assert result.returncode == 0, result.stderr


def test_local_rendering_changes_only_addresses_and_paths(tmp_path: Path) -> None:
    source = NGINX_CONF.read_text(encoding="utf-8")
    out = render(source, listen="127.0.0.1:9", upstreams=["127.0.0.1:7"], workdir=tmp_path)
    for header in ("location /", "location = /ws", "map $http_upgrade $connection_upgrade"):
        assert block(out, header) == block(source, header)
    assert "app1:8000" not in out
    assert "server 127.0.0.1:7 max_fails" in out
    assert "listen 127.0.0.1:9 default_server;" in out and "listen 127.0.0.1:9;" in out
    assert "server_name 127.0.0.1 localhost;" in out and "${" not in out
    named = render(source, listen="127.0.0.1:9", upstreams=["127.0.0.1:7"], workdir=tmp_path,
                   server_name="chat.example.org")  # fmt: skip
    assert "server_name chat.example.org;" in named
    with pytest.raises(ValueError, match="listen"):
        render(source.replace("listen 80;", "listen 81;"), listen="x", upstreams=["y"],
               workdir=tmp_path)  # fmt: skip
    with pytest.raises(ValueError, match="server_name"):
        render(source, listen="x", upstreams=["y"], workdir=tmp_path, server_name="a; b")


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_is_slim_python_311_and_runs_the_server() -> None:
    (base,) = instructions("FROM")
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", base), base
    assert any(re.search(r"pip install\b.*\s\.(\s|$)", run) for run in instructions("RUN"))
    assert instructions("EXPOSE") == ["8000"]
    (cmd,) = instructions("CMD")
    assert json.loads(cmd) == ["peer-support", "serve", "--host", "0.0.0.0", "--port", "8000"]


def test_dockerfile_runs_as_non_root() -> None:
    users = instructions("USER")
    assert users, "the image must switch to a non-root USER"
    final = users[-1].split(":")[0]
    assert final not in ("root", "0"), final
    order = [word for word, _ in dockerfile()]
    last_user = len(order) - 1 - order[::-1].index("USER")
    assert "RUN" not in order[last_user:], "nothing may run as root after switching user"


def test_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for args in instructions("COPY"):
        *sources, _dest = args.split()
        for source in sources:
            assert not source.startswith("--"), "no COPY --from/--chown expected"
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
            assert source not in ignored, f"COPY {source}: excluded by .dockerignore"
    for package in ("server", "rooms", "moderation", "static"):
        assert any(package in args.split()[:-1] for args in instructions("COPY")), package


@pytest.mark.parametrize("broker_kind", ["memory"])
async def test_image_and_compose_health_checks_work(server: AppServer) -> None:
    """The HEALTHCHECK commands exit 0 against a running server and non-zero without one."""
    (check,) = instructions("HEALTHCHECK")
    assert "--interval" in check
    image_code = healthcheck_script(json.loads(check[check.index("CMD") + 4 :]))
    compose_code = healthcheck_script(next(iter(app_services().values()))["healthcheck"]["test"])
    for code in (image_code, compose_code):
        assert await run_check(code, server.port) == 0
        assert await run_check(code, free_port()) != 0


def _build_image_tree(tmp_path: Path) -> Path:
    """The files `pip install .` puts in the image: the Dockerfile's COPYs, built by setuptools."""
    context = tmp_path / "context"
    context.mkdir()
    for args in instructions("COPY"):
        *sources, _dest = args.split()
        for source in sources:
            src = ROOT / source
            if src.is_dir():
                shutil.copytree(src, context / source, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, context / source)
    lib = tmp_path / "site-packages"
    build = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
         "--build-lib", str(lib)],
        cwd=context, capture_output=True, text=True, timeout=timeout(60),
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    return lib


def test_installed_package_serves_the_web_client_and_rooms(tmp_path: Path) -> None:
    """What the image runs: the installed packages only, away from the repository."""
    lib = _build_image_tree(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(lib),
        "SECRET_KEY_FILE": str(run_dir / "secret"),
    }
    env.pop("REDIS_URL", None)
    with (tmp_path / "app.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port)],
            cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(lambda: _status(port, "/healthz") == 200, 20, "the installed server")
        assert _status(port, "/api/rooms") == 200, "the starter rooms are not installed"
        assert _status(port, "/") == 200, "the web client is not installed"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout(15))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _status(port: int, path: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout(5)) as r:
            status: int = r.status
            return status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None
