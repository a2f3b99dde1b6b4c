"""`python -m bench`: run the scenarios against the product and every reference, print tables,
judge the targets (PASS/MISS) and write charts.

python -m bench                      the default run (`make bench`, several minutes on 2 cores)
python -m bench --quick              smaller and shorter (no 20,000-connection hold)
python -m bench --targets product,socketio --scenarios fanout --rates 20000 --step-seconds 10
python -m bench --soak               two product processes for 20 minutes at half capacity
python -m bench --profile 20000      py-spy the product at one offered rate (needs py-spy)

Targets: product, socketio (Socket.IO 4 on Node with its Redis adapter: needs node and
`npm ci` in bench/socketio, which `make bench` runs), ceiling (bare `websockets` broadcast),
baseline (Starlette with a subscription per socket).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.charts import write_charts
from bench.procs import (
    ROOT,
    Cores,
    load_env,
    new_workdir,
    raise_fd_limit,
    rooms_file,
    socketio_missing,
)
from bench.report import Results, machine, render
from bench.scenarios import LATENCY_PAIR, TARGETS, Bench, Config
from bench.targets import evaluate, render_checks

__all__ = ["main", "run"]

DEFAULT_ENV = ROOT / "bench" / "load.env"
DEFAULT_CHARTS = ROOT / "docs" / "perf"
MAX_CONNECTIONS = 25_000
BENCH_SECRET = "bench-secret-key-0123456789abcdef"


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _words(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--env", type=Path, default=DEFAULT_ENV, help="KEY=VALUE settings file")
    p.add_argument("--quick", action="store_true", help="fewer steps and connections")
    p.add_argument("--targets", type=_words, help=f"comma list of {', '.join(TARGETS)}")
    p.add_argument("--scenarios", type=_words, help="comma list of fanout,idle,hold,scaleout,slow")
    p.add_argument("--rooms", type=int)
    p.add_argument("--members", type=int)
    p.add_argument("--rates", type=_ints, help="offered deliveries/s of the fan-out steps")
    p.add_argument("--scaleout-rates", type=_ints)
    p.add_argument("--step-seconds", type=float)
    p.add_argument("--drain-seconds", type=float)
    p.add_argument("--idle", type=int, help="connections of the idle scenario")
    p.add_argument("--hold", type=int, help="connections the product holds (default 20000)")
    p.add_argument(
        "--latency-rate", type=int, help="offered rate of the p50/p99 targets (default 40000)"
    )
    p.add_argument("--slow-readers", type=int)
    p.add_argument("--slow-rate", type=int)
    p.add_argument("--generators", type=int, help="load generator processes (default 1)")
    p.add_argument("--server-cpus", help="taskset list for servers (default 0)")
    p.add_argument("--generator-cpus", help="taskset list for generators and redis")
    p.add_argument(
        "--mark-rates",
        type=_ints,
        default=[5_000, 20_000, 40_000],
        help="offered rates the summary quotes (default 5000,20000,40000)",
    )
    p.add_argument("--json", type=Path, help="write the raw results here")
    p.add_argument(
        "--profile",
        type=int,
        metavar="RATE",
        help="record the product with py-spy at this offered rate and summarise",
    )
    p.add_argument("--workdir", type=Path, help="logs and redis files (default: a temp dir)")
    p.add_argument(
        "--charts", type=Path, default=DEFAULT_CHARTS, help="SVG charts go here (docs/perf)"
    )
    p.add_argument("--no-charts", action="store_true", help="write no charts")
    soak = p.add_argument_group("soak (runs instead of the scenarios)")
    soak.add_argument("--soak", action="store_true", help="two product processes, many minutes")
    soak.add_argument("--soak-minutes", type=float, default=20.0, help="(default 20)")
    soak.add_argument("--soak-rate", type=int, help="offered deliveries/s (default: half capacity)")
    soak.add_argument(
        "--soak-step-seconds", type=float, default=60.0, help="one reported step (default 60)"
    )
    soak.add_argument("--soak-churn", type=float, default=10.0, help="members joining a second")
    return p.parse_args(argv)


def config_from(args: argparse.Namespace) -> Config:
    cfg = Config()
    if args.quick:
        cfg.rates = [10_000, 20_000, 40_000]
        cfg.scaleout_rates = [20_000]
        cfg.step_seconds = 1.5
        cfg.drain_seconds = 0.5
        cfg.idle_connections = 500
        cfg.hold_connections = 0
        cfg.slow_step_seconds = 3.0
    for name in (
        "rooms",
        "members",
        "rates",
        "scaleout_rates",
        "step_seconds",
        "drain_seconds",
        "slow_readers",
        "slow_rate",
        "generators",
        "targets",
        "scenarios",
    ):
        value = getattr(args, name)
        if value is not None:
            setattr(cfg, name, value)
    if args.idle is not None:
        cfg.idle_connections = args.idle
    if args.hold is not None:
        cfg.hold_connections = args.hold
    if args.latency_rate is not None:
        cfg.latency_rate = args.latency_rate
    unknown = set(cfg.targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets: {', '.join(sorted(unknown))}")
    cfg.targets = [t for t in TARGETS if t in cfg.targets]  # the product's column first
    bounds = cfg.rooms * cfg.members + cfg.slow_readers
    if max(bounds, cfg.idle_connections, cfg.hold_connections) > MAX_CONNECTIONS:
        raise SystemExit(f"at most {MAX_CONNECTIONS:,} connections")
    if cfg.generators > 4:
        raise SystemExit("at most 4 generator processes")
    return cfg


def available_targets(targets: list[str]) -> list[str]:
    """`targets` less the Socket.IO reference when it cannot run here, said in one line."""
    if "socketio" in targets and (why := socketio_missing()) is not None:
        print(f"bench: the Socket.IO reference is skipped: {why}", flush=True)
        return [t for t in targets if t != "socketio"]
    return targets


def run(cfg: Config, env: dict[str, str], cores: Cores, workdir: Path) -> Results:
    """Every scenario of `cfg` against every target, references side by side."""
    results = Results()
    bench = Bench(cfg, cores, env, workdir)
    try:
        for target in cfg.targets:
            if "fanout" in cfg.scenarios:
                print(f"fan-out, {cfg.rooms} rooms x {cfg.members} members:", flush=True)
                through = cfg.latency_rate if target in LATENCY_PAIR else 0
                steps, seconds = bench.fanout(target, through=through)
                results.fanout[target] = steps
                results.fanout_connect_s[target] = seconds
            if "idle" in cfg.scenarios:
                print(f"idle, {cfg.idle_connections:,} connections:", flush=True)
                results.idle[target] = bench.idle(target, cfg.idle_connections)
            if "hold" in cfg.scenarios and target == "product" and cfg.hold_connections:
                print(f"hold, {cfg.hold_connections:,} connections on one process:", flush=True)
                results.hold = bench.idle(target, cfg.hold_connections)
            if "scaleout" in cfg.scenarios:
                print("scale-out, two server processes on one redis:", flush=True)
                steps, _ = bench.fanout(target, servers_count=2, rates=cfg.scaleout_rates)
                results.scaleout[target] = steps
            if "slow" in cfg.scenarios:
                print(f"slow reader, {cfg.slow_readers} members stop reading:", flush=True)
                results.slow[target] = bench.slow(target)
    finally:
        bench.close()
    return results


def server_env(file_env: dict[str, str], workdir: Path, rooms: int) -> dict[str, str]:
    env = {
        "SECRET_KEY": BENCH_SECRET,
        "SECRET_KEY_FILE": str(workdir / "secret_key"),
        "LOG_LEVEL": "WARNING",
        **file_env,
    }
    env.setdefault("ROOMS_FILE", str(rooms_file(workdir, rooms)))
    return env


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so every started process is stopped on the way out


def _fd_limit(cfg: Config, soak: bool) -> None:
    """Every connection is a descriptor in the server and in the generator: raise the limit
    the children inherit, and say so when it cannot cover the largest scenario."""
    largest = max(cfg.rooms * cfg.members + cfg.slow_readers, cfg.idle_connections)
    if "hold" in cfg.scenarios and not soak:
        largest = max(largest, cfg.hold_connections)
    needed = largest + 1024
    got = raise_fd_limit(needed)
    if got < needed:
        print(
            f"bench: open files are limited to {got:,} a process (ulimit -Hn) and the largest "
            f"scenario needs {needed:,}: raise the hard limit (the container's or the service's "
            "nofile) or expect its connections to fail"
        )


def _soak(args: argparse.Namespace, cfg: Config, env: dict[str, str], cores: Cores) -> int:
    from bench.soak import SoakConfig, evaluate_soak, render_soak, run_soak

    soak_cfg = SoakConfig(
        minutes=args.soak_minutes,
        step_seconds=args.soak_step_seconds,
        rate=args.soak_rate,
        churn_per_second=args.soak_churn,
    )
    bench = Bench(cfg, cores, env, args.workdir)
    try:
        result = run_soak(bench, soak_cfg)
    finally:
        bench.close()
    print(render_soak(result))
    print(render_checks(evaluate_soak(result), "Soak targets"))
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(result), indent=1, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_term)
    args = parse_args(argv)
    cfg = config_from(args)
    if shutil.which("redis-server") is None and not Path("/usr/bin/redis-server").exists():
        print("bench: redis-server is required (apt-get install redis-server)", file=sys.stderr)
        return 2
    workdir = args.workdir = args.workdir or new_workdir()
    workdir.mkdir(parents=True, exist_ok=True)
    cores = Cores.detect(args.server_cpus, args.generator_cpus)
    file_env = load_env(args.env) if args.env.exists() else {}
    hold = cfg.hold_connections if "hold" in cfg.scenarios else 0
    rooms = max(cfg.rooms, math.ceil(max(cfg.idle_connections, hold) / cfg.members), 1)
    env = server_env(file_env, workdir, rooms)
    _fd_limit(cfg, args.soak)
    print(f"machine: {machine(cores.server, cores.generator)}")
    print(f"load average before the run: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"settings: {args.env if args.env.exists() else '(none)'}; logs in {workdir}\n")
    if args.profile is not None:
        from bench.profile import profile

        return profile(cfg, env, cores, workdir, args.profile)
    if args.soak:
        return _soak(args, cfg, env, cores)
    cfg.targets = available_targets(cfg.targets)
    started = time.monotonic()
    results = run(cfg, env, cores, workdir)
    print(render(results, cfg.targets, args.mark_rates))
    print(render_checks(evaluate(results, cfg.latency_rate)))
    if not args.no_charts:
        charts = write_charts(results, args.charts)
        if isinstance(charts, str):
            print(f"\ncharts skipped: {charts}")
        else:
            shown = [str(c.relative_to(ROOT) if c.is_relative_to(ROOT) else c) for c in charts]
            print(f"\ncharts: {', '.join(shown)}")
    print(f"\nbench finished in {time.monotonic() - started:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(results), indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
