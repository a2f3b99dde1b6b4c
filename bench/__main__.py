"""`python -m bench`: run the scenarios against the product and both references, print tables.

python -m bench                      the default run (`make bench`, a few minutes on 2 cores)
python -m bench --quick              smaller and shorter
python -m bench --targets product --scenarios fanout --rates 20000 --step-seconds 10
python -m bench --profile 20000      py-spy the product at one offered rate (needs py-spy)
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

from bench.procs import ROOT, Cores, load_env, new_workdir, rooms_file
from bench.report import Results, machine, render
from bench.scenarios import TARGETS, Bench, Config

__all__ = ["main", "run"]

DEFAULT_ENV = ROOT / "bench" / "load.env"
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
    p.add_argument("--scenarios", type=_words, help="comma list of fanout,idle,scaleout,slow")
    p.add_argument("--rooms", type=int)
    p.add_argument("--members", type=int)
    p.add_argument("--rates", type=_ints, help="offered deliveries/s of the fan-out steps")
    p.add_argument("--scaleout-rates", type=_ints)
    p.add_argument("--step-seconds", type=float)
    p.add_argument("--drain-seconds", type=float)
    p.add_argument("--idle", type=int, help="connections of the idle scenario")
    p.add_argument("--slow-readers", type=int)
    p.add_argument("--slow-rate", type=int)
    p.add_argument("--generators", type=int, help="load generator processes (default 1)")
    p.add_argument("--server-cpus", help="taskset list for servers (default 0)")
    p.add_argument("--generator-cpus", help="taskset list for generators and redis")
    p.add_argument(
        "--mark-rates",
        type=_ints,
        default=[5_000, 20_000],
        help="offered rates the summary quotes (default 5000,20000)",
    )
    p.add_argument("--json", type=Path, help="write the raw results here")
    p.add_argument(
        "--profile",
        type=int,
        metavar="RATE",
        help="record the product with py-spy at this offered rate and summarise",
    )
    p.add_argument("--workdir", type=Path, help="logs and redis files (default: a temp dir)")
    return p.parse_args(argv)


def config_from(args: argparse.Namespace) -> Config:
    cfg = Config()
    if args.quick:
        cfg.rates = [10_000, 20_000, 40_000]
        cfg.scaleout_rates = [20_000]
        cfg.step_seconds = 1.5
        cfg.drain_seconds = 0.5
        cfg.idle_connections = 500
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
    unknown = set(cfg.targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets: {', '.join(sorted(unknown))}")
    bounds = cfg.rooms * cfg.members + cfg.slow_readers
    if max(bounds, cfg.idle_connections) > 15_000 or cfg.generators > 4:
        raise SystemExit("at most 15,000 connections and 4 generator processes")
    return cfg


def run(cfg: Config, env: dict[str, str], cores: Cores, workdir: Path) -> Results:
    """Every scenario of `cfg` against every target, references side by side."""
    results = Results()
    bench = Bench(cfg, cores, env, workdir)
    try:
        for target in cfg.targets:
            if "fanout" in cfg.scenarios:
                print(f"fan-out, {cfg.rooms} rooms x {cfg.members} members:", flush=True)
                steps, seconds = bench.fanout(target)
                results.fanout[target] = steps
                results.fanout_connect_s[target] = seconds
            if "idle" in cfg.scenarios:
                print(f"idle, {cfg.idle_connections:,} connections:", flush=True)
                results.idle[target] = bench.idle(target, cfg.idle_connections)
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


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_term)
    args = parse_args(argv)
    cfg = config_from(args)
    if shutil.which("redis-server") is None and not Path("/usr/bin/redis-server").exists():
        print("bench: redis-server is required (apt-get install redis-server)", file=sys.stderr)
        return 2
    workdir = args.workdir or new_workdir()
    workdir.mkdir(parents=True, exist_ok=True)
    cores = Cores.detect(args.server_cpus, args.generator_cpus)
    file_env = load_env(args.env) if args.env.exists() else {}
    rooms = max(cfg.rooms, math.ceil(cfg.idle_connections / cfg.members), 1)
    env = server_env(file_env, workdir, rooms)
    print(f"machine: {machine(cores.server, cores.generator)}")
    print(f"load average before the run: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"settings: {args.env if args.env.exists() else '(none)'}; logs in {workdir}\n")
    if args.profile is not None:
        from bench.profile import profile

        return profile(cfg, env, cores, workdir, args.profile)
    started = time.monotonic()
    results = run(cfg, env, cores, workdir)
    print(render(results, cfg.targets, args.mark_rates))
    print(f"\nbench finished in {time.monotonic() - started:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(results), indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
