"""`python -m bench --profile RATE [--targets T]`: where a server's CPU goes per delivery.

Runs the fan-out at one offered rate while py-spy samples the server process (both processes
with `--scenarios scaleout`), then prints the functions that dominate: by self time (the frame
on top of the stack) and inclusive time (on the stack at all), each as a share of busy samples
and as microseconds of server CPU per delivery.
py-spy is a dev tool: `.venv/bin/pip install py-spy`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from bench.procs import Cores
from bench.scenarios import TARGETS, Bench, Config, StepResult

__all__ = ["profile", "summarise"]

# Where a sample's time goes, by the first rule whose marker is anywhere on its stack.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("text: normalize + bleach linkify (per message)", ("bleach/", "html5lib", "rooms/text.py")),
    (
        "moderation checks: contact, crisis (per message)",
        ("moderation/contact.py", "moderation/crisis.py"),
    ),
    (
        "socket write: ASGI send → uvicorn → transport.write",
        (
            "WebSocketsSansIOProtocol.send",
            "WebSocket.send",
            "websockets/frames.py",
            "websockets/protocol.py",
            "broadcast",
        ),
    ),
    ("redis: publish script, pub/sub read, other commands", ("redis/",)),
    (
        "frame read: uvicorn receive, wire.parse, handlers",
        (
            "data_received",
            "server/wire.py",
            "server/app.py",
            "server/endpoint.py",
            "server/dispatch.py",
            "server/effects.py",
            "server/commands.py",
            "json/decoder.py",
        ),
    ),
    ("fan-out: hub + outbox (deliver, writer wake-ups)", ("server/hub.py", "server/session.py")),
]


def categorise(collapsed: Path) -> tuple[Counter[str], int]:
    """Busy samples per category of CATEGORIES (the rest is "event loop and other")."""
    counts: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        total += int(count_s)
        for name, markers in CATEGORIES:
            if any(m in stack for m in markers):
                counts[name] += int(count_s)
                break
        else:
            counts["event loop (uvloop, syscalls of callbacks) and other"] += int(count_s)
    return counts, total


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def summarise(collapsed: Path, step: StepResult | None, top: int = 25) -> str:
    """Self and inclusive tables from py-spy's raw (collapsed stack) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = [_short(f) for f in stack.split(";")]
        # The first entry of a raw line names the process or thread; skip it.
        frames = [f for f in frames if "(" in f] or frames
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return "py-spy recorded no samples"
    per_delivery = step.cpu_us_per_delivery if step is not None else float("nan")

    def table(title: str, counts: Counter[str]) -> str:
        rows = [f"\n{title} (share of busy samples; µs of server CPU per delivery)"]
        for name, count in counts.most_common(top):
            share = count / total
            rows.append(f"  {100 * share:5.1f} %  {share * per_delivery:6.2f} µs  {name}")
        return "\n".join(rows)

    cats, _ = categorise(collapsed)
    return "\n".join(
        [
            f"{total} samples",
            table("by kind of work", cats),
            table("self", own),
            table("inclusive", inclusive),
        ]
    )


def profile(cfg: Config, env: dict[str, str], cores: Cores, workdir: Path, rate: int) -> int:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("bench: py-spy is not installed (.venv/bin/pip install py-spy)", file=sys.stderr)
        return 2
    target = cfg.targets[0]
    if TARGETS[target].node:
        print("bench: py-spy samples Python processes only (--targets product)", file=sys.stderr)
        return 2
    seconds = cfg.step_seconds
    # `--scenarios scaleout`: two server processes on one Redis, both sampled.
    count = 2 if cfg.scenarios == ["scaleout"] else 1
    bench = Bench(cfg, cores, env, workdir)
    out = workdir / f"profile-{target}.txt"
    try:
        with bench.servers(target, count, "prof") as servers, bench.generators() as gens:
            plan = bench._plan(target, servers, cfg.rooms, cfg.members)
            readers, _, _ = bench.connect(gens, plan)
            bench.warm_up(gens, servers, rate, readers)
            recorders = [
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(proc.pid),
                        "--format",
                        "raw",
                        "--rate",
                        "250",
                        "--nonblocking",
                        "--duration",
                        str(int(seconds)),
                        "--output",
                        str(out.with_suffix(f".{i}.txt")),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                for i, (proc, _) in enumerate(servers)
            ]
            result: list[StepResult] = []
            stepper = threading.Thread(
                target=lambda: result.append(bench.step(gens, servers, 0, rate, readers))
            )
            stepper.start()
            stepper.join()
            for recorder in recorders:
                recorder.wait(seconds + 30)
            step = result[0] if result else None
    finally:
        bench.close()
    parts = [out.with_suffix(f".{i}.txt") for i in range(count)]
    if all(part.exists() for part in parts):  # collapsed stacks: one "stack count" a line
        out.write_text("".join(part.read_text() for part in parts))
    if step is not None:
        print(
            f"{target} at {rate:,}/s offered: {step.delivered_pct:.2f} % delivered, "
            f"p99 {step.p99_ms:.1f} ms, server CPU {step.server_cpu:.0f} %, "
            f"{step.cpu_us_per_delivery:.2f} µs CPU per delivery"
        )
    if not out.exists():
        errors = [r.stderr.read().decode(errors="replace")[:500] for r in recorders if r.stderr]
        print(f"py-spy wrote nothing: {' '.join(errors)}")
        return 1
    print(summarise(out, step))
    print(f"\ncollapsed stacks: {out} (flamegraph.pl or speedscope read them)")
    return 0
