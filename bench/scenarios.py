"""The bench's scenarios: fan-out, idle, hold, scale-out and slow reader, each run against every
target (hold: the product only; the soak is in bench/soak.py).

A target is a kind of server (the product or one of the references in bench/); each scenario
starts fresh server processes, drives them from load-generator processes and returns plain
results that `bench.report` prints.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loadgen import bucket_ms
from bench.procs import Cores, GeneratorProcess, Proc, RedisProcess, ServerSpec

__all__ = [
    "CAPACITY_MAX_P99_MS",
    "CAPACITY_MIN_DELIVERED",
    "TARGETS",
    "Bench",
    "Config",
    "IdleResult",
    "SlowResult",
    "StepResult",
]

TARGETS = {
    "product": ServerSpec("product", "server", product=True),
    "socketio": ServerSpec(
        "socketio", "bench/socketio/server.js", product=False, node=True, proto="sio"
    ),
    "ceiling": ServerSpec("ceiling", "bench.ref_ceiling", product=False),
    "baseline": ServerSpec("baseline", "bench.ref_baseline", product=False),
}
# The targets whose fan-out keeps stepping past a failed step up to `Config.latency_rate`, so
# that the latency comparison at that rate always has both steps.
LATENCY_PAIR = ("product", "socketio")
CAPACITY_MIN_DELIVERED = 99.9  # percent
CAPACITY_MAX_P99_MS = 100.0
WARMUP_STEP = 255


@dataclass
class Config:
    """Scales of one bench run; `--quick` and the test use smaller ones."""

    rooms: int = 50
    members: int = 20
    # Offered deliveries/s; each target steps up until a step fails the capacity rule.
    rates: list[int] = field(
        default_factory=lambda: [
            2_500,
            5_000,
            7_500,
            10_000,
            15_000,
            20_000,
            25_000,  # steps of 5,000 from here: a capacity ratio is no finer than its steps
            30_000,
            35_000,
            40_000,
            45_000,
            50_000,
            55_000,
            60_000,
            # On this machine every server delivered 60,000/s in full: steps past it find where
            # each one stops (the generator's own CPU, about 40 % at 60,000/s, is watched too).
            65_000,
            70_000,
            75_000,
            80_000,
            90_000,
            100_000,
        ]
    )
    step_seconds: float = 3.0
    drain_seconds: float = 0.7
    warmup_seconds: float = 1.5
    idle_connections: int = 2000
    hold_connections: int = 20_000  # hold: the product alone holds this many (0: skipped)
    latency_rate: int = 40_000  # offered deliveries/s where p50 and p99 are compared
    settle_seconds: float = 1.0  # idle: wait before reading memory, after the joins
    idle_check_rate: int = 5_000  # idle: deliveries/s of the step that shows they are held
    scaleout_rates: list[int] = field(default_factory=lambda: [5_000, 10_000, 20_000, 40_000])
    slow_readers: int = 5
    slow_rate: int = 5_000  # a load every target carries, so only the stalled readers differ
    # Each p99 of the slow-reader scenario from twice a fan-out step: at 3 s one 30 ms pause
    # anywhere (a collector pass, a heartbeat) sets the p99 alone and swamps the comparison.
    slow_step_seconds: float = 6.0
    generators: int = 1
    parallel_connects: int = 16
    targets: list[str] = field(default_factory=lambda: list(TARGETS))
    scenarios: list[str] = field(
        default_factory=lambda: ["fanout", "idle", "hold", "scaleout", "slow"]
    )


@dataclass
class StepResult:
    """One offered load held for a step; rates are deliveries a second."""

    offered: int
    messages_per_s: float
    sent: int
    expected: int
    received: int
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu: float  # percent of one core, all server processes together
    generator_cpu: float  # percent of one core, the busiest generator process
    redis_cpu: float
    seconds: float
    wall_seconds: float = 0.0  # the step, its drain and the generators' answers
    redis_cpu_seconds: float = 0.0
    # Arrivals during this step of messages that earlier steps sent, by their step.
    late_steps: dict[int, int] = field(default_factory=dict)

    @property
    def delivered_pct(self) -> float:
        return 100.0 * self.received / self.expected if self.expected else 0.0

    @property
    def delivered_per_s(self) -> float:
        return self.received / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_delivery(self) -> float:
        """Server CPU per delivery (microseconds), over the step and its drain."""
        wall = self.seconds  # the CPU figure is a share of the step's wall time, drain included
        return self.server_cpu / 100 * wall * 1e6 / self.received if self.received else math.nan

    @property
    def redis_us_per_message(self) -> float:
        """redis-server CPU per message sent (microseconds), over the step and its drain."""
        return self.redis_cpu_seconds * 1e6 / self.sent if self.sent else math.nan

    @property
    def ok(self) -> bool:
        return self.delivered_pct >= CAPACITY_MIN_DELIVERED and self.p99_ms < CAPACITY_MAX_P99_MS


@dataclass
class IdleResult:
    connections: int
    failed: int
    connect_seconds: float
    rss_before_kib: int
    rss_after_kib: int
    check: StepResult | None = None  # a step of messages to all of them, after the reading

    @property
    def delivered_pct(self) -> float:
        """How much of the check step reached the held connections."""
        return self.check.delivered_pct if self.check is not None else 0.0

    @property
    def kib_per_connection(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / max(self.connections, 1)

    @property
    def opened_per_second(self) -> float:
        """Members opened a second (product: hello, join, agree; Socket.IO: connect, join)."""
        return self.connections / self.connect_seconds if self.connect_seconds else math.nan


@dataclass
class SlowResult:
    before: StepResult
    after: StepResult
    slow: int
    closed: dict[str, int]

    @property
    def p99_change_pct(self) -> float:
        return 100.0 * (self.after.p99_ms / self.before.p99_ms - 1) if self.before.p99_ms else 0.0


def capacity(steps: list[StepResult]) -> float:
    """Deliveries/s of the highest step with ≥ 99.9 % delivered and p99 < 100 ms below the first
    step that fails (0 if none): a step passed again past an overload does not count."""
    best = 0.0
    for step in steps:
        if not step.ok:
            break
        best = max(best, step.delivered_per_s)
    return best


def _percentiles(hist: Counter[int], total: int) -> tuple[float, float, float]:
    if not total:
        return math.nan, math.nan, math.nan
    keys = sorted(hist)
    out: list[float] = []
    for q in (0.5, 0.99):
        rank, seen = q * total, 0
        for k in keys:
            seen += hist[k]
            if seen >= rank:
                out.append(bucket_ms(k))
                break
    return out[0], out[1], bucket_ms(keys[-1])


class Bench:
    """One redis-server, and the means to start targets and generators around it."""

    def __init__(self, cfg: Config, cores: Cores, env: dict[str, str], workdir: Path) -> None:
        self.cfg = cfg
        self.cores = cores
        self.env = env
        self.workdir = workdir
        self.redis = RedisProcess(workdir, cores)
        self.log: list[str] = []

    def close(self) -> None:
        self.redis.stop()

    def say(self, line: str) -> None:
        print(line, flush=True)

    # -- processes ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def servers(self, target: str, count: int, tag: str) -> Iterator[list[tuple[Proc, int]]]:
        self.redis.flush()
        spec = TARGETS[target]
        started: list[tuple[Proc, int]] = []
        try:
            for i in range(count):
                started.append(
                    spec.start(self.cores, self.env, self.redis.url, self.workdir, f"{tag}{i}")
                )
            yield started
        finally:
            for proc, _ in started:
                proc.stop()

    @contextlib.contextmanager
    def generators(self) -> Iterator[list[GeneratorProcess]]:
        gens = [GeneratorProcess(self.cores, self.workdir, i) for i in range(self.cfg.generators)]
        try:
            yield gens
        finally:
            for gen in gens:
                gen.stop()

    # -- driving the generators ---------------------------------------------------------------

    def connect(
        self, gens: list[GeneratorProcess], plan: list[dict[str, Any]]
    ) -> tuple[dict[str, int], float, int]:
        """Open every planned connection; (readers per room, seconds, failures)."""
        shares: list[list[dict[str, Any]]] = [[] for _ in gens]
        for i, spec in enumerate(plan):
            shares[i % len(gens)].append(spec)
        for gen, share in zip(gens, shares, strict=True):
            gen.send({"cmd": "connect", "conns": share, "parallel": self.cfg.parallel_connects})
        answers = [gen.answer() for gen in gens]
        readers: Counter[str] = Counter()
        for gen_answer in answers:
            readers.update(gen_answer["readers"])
            if gen_answer["setup_errors"]:
                self.say(f"  ! errors while connecting: {gen_answer['setup_errors']}")
            if gen_answer["failed"]:
                self.say(f"  ! {gen_answer['failed']} connections failed: {gen_answer['failures']}")
        failed = sum(int(a["failed"]) for a in answers)
        seconds = max(float(a["seconds"]) for a in answers)
        return dict(readers), seconds, failed

    def step(
        self,
        gens: list[GeneratorProcess],
        servers: list[tuple[Proc, int]],
        index: int,
        offered: int,
        readers: dict[str, int],
        seconds: float | None = None,
        drain: float | None = None,
    ) -> StepResult:
        step_s = self.cfg.step_seconds if seconds is None else seconds
        drain_s = self.cfg.drain_seconds if drain is None else drain
        per_message = sum(readers.values()) / max(len(readers), 1)
        messages = offered / per_message
        cpu0 = [p.cpu_seconds() for p, _ in servers]
        redis0 = self.redis.cpu_seconds()
        wall0 = time.monotonic()
        for gen in gens:
            gen.send(
                {
                    "cmd": "step",
                    "step": index,
                    "rate": messages / len(gens),
                    "seconds": step_s,
                    "drain": drain_s,
                }
            )
        answers = [gen.answer() for gen in gens]
        wall = time.monotonic() - wall0
        server_cpu = sum(p.cpu_seconds() - c for (p, _), c in zip(servers, cpu0, strict=True))
        redis_cpu = self.redis.cpu_seconds() - redis0
        hist: Counter[int] = Counter()
        errors: Counter[str] = Counter()
        late_steps: Counter[int] = Counter()
        expected = received = sent = 0
        for a in answers:
            hist.update({int(k): v for k, v in a["hist"].items()})
            late_steps.update({int(k): v for k, v in a.get("late_steps", {}).items()})
            errors.update(a["errors"])
            received += a["received"]
            sent += a["sent"]
            expected += sum(n * readers.get(room, 0) for room, n in a["sent_by_room"].items())
        p50, p99, worst = _percentiles(hist, received)
        return StepResult(
            offered=offered,
            messages_per_s=messages,
            sent=sent,
            expected=expected,
            received=received,
            errors=dict(errors),
            p50_ms=p50,
            p99_ms=p99,
            max_ms=worst,
            server_cpu=100 * server_cpu / wall,
            generator_cpu=max(100 * a["cpu"] / a["wall"] for a in answers),
            redis_cpu=100 * redis_cpu / wall,
            seconds=step_s,
            wall_seconds=wall,
            redis_cpu_seconds=redis_cpu,
            late_steps=dict(late_steps),
        )

    def warm_up(
        self,
        gens: list[GeneratorProcess],
        servers: list[tuple[Proc, int]],
        rate: int,
        readers: dict[str, int],
    ) -> None:
        """An unreported step: the first messages after thousands of joins meet the garbage
        collector's full passes over what the joins allocated (measured: 50-150 ms pauses)."""
        if self.cfg.warmup_seconds > 0:
            self.step(gens, servers, WARMUP_STEP, rate, readers, self.cfg.warmup_seconds)

    def _plan(
        self, target: str, servers: list[tuple[Proc, int]], rooms: int, members: int
    ) -> list[dict[str, Any]]:
        """Members of each room, spread over the servers in turn."""
        spec = TARGETS[target]
        urls = [spec.url(port) for _, port in servers]
        plan = []
        for m in range(members):
            for r in range(rooms):
                url = urls[(r * members + m) % len(urls)]
                room = f"bench-{r:04d}"
                plan.append({"url": url, "room": room, "sender": True, "proto": spec.proto})
        return plan

    # -- scenarios ----------------------------------------------------------------------------

    def fanout(
        self,
        target: str,
        servers_count: int = 1,
        rates: list[int] | None = None,
        through: int = 0,
    ) -> tuple[list[StepResult], float]:
        """R rooms x M members on `servers_count` processes, offered rates stepped up until a
        step fails the capacity rule and the rate has reached `through`. Returns the steps
        and the connect time."""
        cfg = self.cfg
        rates = rates if rates is not None else cfg.rates
        tag = "fan" if servers_count == 1 else "scale"
        with self.servers(target, servers_count, tag) as servers, self.generators() as gens:
            plan = self._plan(target, servers, cfg.rooms, cfg.members)
            readers, seconds, _ = self.connect(gens, plan)
            self.warm_up(gens, servers, min(rates), readers)
            steps: list[StepResult] = []
            for i, rate in enumerate(rates):
                result = self.step(gens, servers, i, rate, readers)
                steps.append(result)
                self.say(
                    f"  {target:8} {rate:>7,}/s offered: {result.delivered_pct:6.2f} % "
                    f"p99 {result.p99_ms:7.1f} ms, server CPU {result.server_cpu:3.0f} %, "
                    f"generator CPU {result.generator_cpu:3.0f} %"
                )
                if not result.ok and rate >= through:
                    break
            return steps, seconds

    def idle(self, target: str, connections: int) -> IdleResult:
        """N connections joined to rooms of M members: memory per connection, time to connect."""
        cfg = self.cfg
        members = cfg.members
        rooms = math.ceil(connections / members)
        with self.servers(target, 1, "idle") as servers, self.generators() as gens:
            proc, _ = servers[0]
            time.sleep(cfg.settle_seconds / 2)
            before = proc.rss_kib()
            plan = self._plan(target, servers, rooms, members)[:connections]
            readers, seconds, failed = self.connect(gens, plan)
            time.sleep(cfg.settle_seconds)  # presence and joins settle
            after = proc.rss_kib()
            # Held, not just counted: every room gets messages, and they must all arrive.
            check = self.step(gens, servers, 0, cfg.idle_check_rate, readers)
            result = IdleResult(connections - failed, failed, seconds, before, after, check)
            self.say(
                f"  {target:8} {connections:,} connections in {seconds:.1f} s "
                f"({result.opened_per_second:,.0f}/s), "
                f"{result.kib_per_connection:.1f} KiB each; then {check.delivered_pct:.2f} % of "
                f"{check.expected:,} deliveries arrived (p99 {check.p99_ms:.1f} ms)"
            )
            return result

    def slow(self, target: str) -> SlowResult:
        """The fan-out with a few extra members that stop reading: the others' p99 before and
        after they stall, and whether the server closed them."""
        cfg = self.cfg
        with self.servers(target, 1, "slow") as servers, self.generators() as gens:
            plan = self._plan(target, servers, cfg.rooms, cfg.members)
            for i in range(cfg.slow_readers):
                plan.append({**plan[i % cfg.rooms], "slow": True, "sender": False})
            readers, _, _ = self.connect(gens, plan)
            self.warm_up(gens, servers, cfg.slow_rate, readers)
            before = self.step(gens, servers, 0, cfg.slow_rate, readers, cfg.slow_step_seconds)
            for gen in gens:
                gen.send({"cmd": "stall"})
            for gen in gens:
                gen.answer()
            after = self.step(gens, servers, 1, cfg.slow_rate, readers, cfg.slow_step_seconds)
            for gen in gens:
                gen.send({"cmd": "unstall"})
            closed: Counter[str] = Counter()
            for gen in gens:
                closed.update(gen.answer()["closed"])
            result = SlowResult(before, after, cfg.slow_readers, dict(closed))
            self.say(
                f"  {target:8} p99 {before.p99_ms:.1f} → {after.p99_ms:.1f} ms with "
                f"{cfg.slow_readers} stalled readers (closed: {dict(closed) or 'none'})"
            )
            return result
