"""The soak (`python -m bench --soak`): two product processes on one Redis for many minutes at
half their measured capacity, members joining and leaving throughout.

It answers what a short step cannot: does memory creep (RSS after the warm-up against the end,
flat within 5 %), is any message lost over the whole run (every arrival is counted by the step
that sent it, late ones too, and a final drain collects the stragglers), and does the p99 hold
minute after minute. The churning members are extra: they open (hello, join, agree), stay a
while and close their socket, so joins, leaves and presence run under the chat; their own
deliveries are not counted, the steady members' all are.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from bench.scenarios import CAPACITY_MAX_P99_MS, Bench, StepResult, capacity
from bench.targets import MISS, NA, PASS, Check

__all__ = ["SoakConfig", "SoakResult", "evaluate_soak", "render_soak", "run_soak"]

SOAK_TARGET = "product"
RSS_FLAT_PCT = 5.0
FINAL_DRAIN_SECONDS = 3.0


@dataclass
class SoakConfig:
    minutes: float = 20.0
    step_seconds: float = 60.0  # one reported step a minute
    warmup_steps: int = 2  # RSS is compared from the end of these to the end of the run
    rate: int | None = None  # offered deliveries/s; None: half the measured capacity
    churn_per_second: float = 10.0  # members opened (and as many closed) a second
    churn_live: int = 100  # churning members open at once


@dataclass
class SoakResult:
    rate: int
    capacity: float | None  # the two processes' capacity it is half of (None: --soak-rate)
    steps: list[StepResult] = field(default_factory=list)
    rss_kib: list[list[int]] = field(default_factory=list)  # per step, per process
    warmup_steps: int = 1
    lost: int = 0
    churn: dict[str, int] = field(default_factory=dict)

    def rss_growth_pct(self) -> list[float]:
        """Per process: RSS at the end against RSS after the warm-up, in percent."""
        if len(self.rss_kib) <= self.warmup_steps:
            return []
        warm, end = self.rss_kib[self.warmup_steps - 1], self.rss_kib[-1]
        return [100.0 * (e / w - 1) if w else math.nan for w, e in zip(warm, end, strict=True)]


def lost_messages(steps: list[StepResult]) -> int:
    """Deliveries expected and never seen, over a run of steps (late arrivals count as seen,
    under the step that sent them)."""
    arrived: Counter[int] = Counter()
    for index, step in enumerate(steps):
        arrived[index] += step.received
        for sent_in, count in step.late_steps.items():
            arrived[sent_in] += count
    return sum(max(step.expected - arrived[i], 0) for i, step in enumerate(steps))


def run_soak(bench: Bench, soak: SoakConfig) -> SoakResult:
    cfg = bench.cfg
    measured: float | None = None
    rate = soak.rate
    if rate is None:
        bench.say("soak: the capacity of two processes first (scale-out steps):")
        steps, _ = bench.fanout(SOAK_TARGET, servers_count=2, rates=cfg.rates)
        measured = capacity(steps)
        rate = max(int(measured / 2), 1)
    count = max(math.ceil(soak.minutes * 60 / soak.step_seconds), soak.warmup_steps + 1)
    result = SoakResult(rate, measured, warmup_steps=soak.warmup_steps)
    bench.say(
        f"soak: two product processes, {cfg.rooms} rooms x {cfg.members} members, {rate:,} "
        f"deliveries/s, {count} steps of {soak.step_seconds:.0f} s, {soak.churn_per_second:g} "
        "members joining and leaving a second:"
    )
    with bench.servers(SOAK_TARGET, 2, "soak") as servers, bench.generators() as gens:
        plan = bench._plan(SOAK_TARGET, servers, cfg.rooms, cfg.members)
        readers, _, _ = bench.connect(gens, plan)
        # The churners: one template per room, on both processes in turn.
        templates = plan[: cfg.rooms * len(servers)]
        for i, gen in enumerate(gens):
            gen.send(
                {
                    "cmd": "churn",
                    "conns": templates[i :: len(gens)],
                    "rate": soak.churn_per_second / len(gens),
                    "live": max(soak.churn_live // len(gens), 1),
                }
            )
            gen.answer()
        send_seconds = max(soak.step_seconds - cfg.drain_seconds, 0.1)
        for index in range(count):
            step = bench.step(gens, servers, index, rate, readers, send_seconds)
            result.steps.append(step)
            result.rss_kib.append([proc.rss_kib() for proc, _ in servers])
            rss = " + ".join(f"{kib / 1024:.0f}" for kib in result.rss_kib[-1])
            bench.say(
                f"  step {index + 1:>3}/{count}: {step.delivered_pct:6.2f} % p50 "
                f"{step.p50_ms:5.1f} ms p99 {step.p99_ms:6.1f} ms, server CPU "
                f"{step.server_cpu:3.0f} %, redis CPU {step.redis_cpu:3.0f} %, RSS {rss} MiB"
            )
        churn: Counter[str] = Counter()
        for gen in gens:
            gen.send({"cmd": "churn_stop"})
            answer = gen.answer()
            churn.update({k: int(v) for k, v in answer.items() if isinstance(v, int)})
        result.churn = dict(churn)
        # Nothing sent; what is still in flight arrives and is counted under its own step.
        tail = bench.step(gens, servers, count, 0, readers, 0.0, drain=FINAL_DRAIN_SECONDS)
    result.lost = lost_messages([*result.steps, tail])
    return result


def evaluate_soak(result: SoakResult) -> list[Check]:
    growth = result.rss_growth_pct()
    rss_name = f"RSS flat within {RSS_FLAT_PCT:.0f} % from the warm-up to the end"
    if growth:
        worst = max(growth)
        rss = Check(
            rss_name,
            PASS if worst <= RSS_FLAT_PCT else MISS,
            "per process: " + ", ".join(f"{g:+.1f} %" for g in growth),
        )
    else:
        rss = Check(rss_name, NA, "no step after the warm-up")
    expected = sum(s.expected for s in result.steps)
    lost = Check(
        "no message lost",
        PASS if result.lost == 0 and expected > 0 else MISS,
        f"{result.lost:,} of {expected:,} deliveries never arrived",
    )
    p99s = [s.p99_ms for s in result.steps]
    worst_p99 = max(p99s, default=math.nan)
    steady = Check(
        f"p99 < {CAPACITY_MAX_P99_MS:.0f} ms in every step",
        PASS if p99s and worst_p99 < CAPACITY_MAX_P99_MS else MISS,
        f"worst {worst_p99:.1f} ms, median {sorted(p99s)[len(p99s) // 2]:.1f} ms"
        if p99s
        else "no step",
    )
    return [rss, lost, steady]


def render_soak(result: SoakResult) -> str:
    rows = ["| step | delivered | p50 ms | p99 ms | max ms | server CPU | redis CPU | RSS MiB |"]
    rows.append("|---|---|---|---|---|---|---|---|")
    for i, (step, rss) in enumerate(zip(result.steps, result.rss_kib, strict=True), 1):
        mark = " (warm-up)" if i <= result.warmup_steps else ""
        rows.append(
            f"| {i}{mark} | {step.delivered_pct:.2f} % | {step.p50_ms:.1f} | {step.p99_ms:.1f} "
            f"| {step.max_ms:.1f} | {step.server_cpu:.0f} % | {step.redis_cpu:.0f} % | "
            + " + ".join(f"{kib / 1024:.1f}" for kib in rss)
            + " |"
        )
    source = (
        f"half of the measured {result.capacity:,.0f}"
        if result.capacity is not None
        else "given with --soak-rate"
    )
    churn = ", ".join(f"{k} {v:,}" for k, v in sorted(result.churn.items())) or "none"
    return "\n".join(
        [
            f"\n### Soak: two product processes, {result.rate:,} deliveries/s ({source})\n",
            *rows,
            f"\nchurning members: {churn}",
        ]
    )
