"""The targets of issue 16, each a ratio between figures of one run, judged PASS or MISS.

Every rule compares the product with a reference measured in the same invocation (Socket.IO on
Node, or the bare `websockets` ceiling for Redis's cost), or with a fixed bound where the issue
sets one. A target whose figures the run did not take (its scenario or its reference left out,
Node missing) is `n/a`, never a PASS. Pure functions of the results: no clock, no process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.report import Results
from bench.scenarios import CAPACITY_MIN_DELIVERED, StepResult, capacity

__all__ = [
    "CAPACITY_RATIO",
    "HOLD_CONNECTIONS",
    "IDLE_BYTES",
    "OPEN_RATIO",
    "REDIS_RATIO",
    "Check",
    "evaluate",
    "redis_us_per_message",
    "render_checks",
    "slow_costs_nothing",
]

CAPACITY_RATIO = 1.2  # product capacity ≥ this x Socket.IO's
IDLE_BYTES = 13_000  # per idle connection (13 KB)
HOLD_CONNECTIONS = 20_000  # idle connections one process holds and serves
OPEN_RATIO = 0.7  # members opened per second ≥ this x Socket.IO's connect-and-join rate
REDIS_RATIO = 2.0  # Redis CPU per message ≤ this x the ceiling's (one PUBLISH)
# "A slow reader costs the others nothing": everything still delivered, and the others' p99
# moves by less than the larger of 10 % and 1 ms (one histogram step and a scheduler's tick
# are of that size at a p99 of 1-2 ms; without the slack the rule would judge noise).
SLOW_P99_RATIO = 1.1
SLOW_P99_SLACK_MS = 1.0

PASS, MISS, NA = "PASS", "MISS", "n/a"


@dataclass(frozen=True)
class Check:
    """One target: its rule, PASS / MISS / n/a, and the figures it was judged on."""

    name: str
    status: str
    detail: str


def _verdict(ok: bool) -> str:
    return PASS if ok else MISS


def _at(steps: list[StepResult], rate: int) -> StepResult | None:
    return next((s for s in steps if s.offered == rate), None)


def redis_us_per_message(steps: list[StepResult], rates: set[int]) -> float:
    """Redis CPU per message sent (µs), pooled over the steps at `rates`."""
    chosen = [s for s in steps if s.offered in rates]
    sent = sum(s.sent for s in chosen)
    return sum(s.redis_cpu_seconds for s in chosen) * 1e6 / sent if sent else math.nan


def slow_costs_nothing(before: StepResult, after: StepResult) -> bool:
    """The others got everything, and their p99 moved less than 10 % or 1 ms."""
    bound = max(before.p99_ms * SLOW_P99_RATIO, before.p99_ms + SLOW_P99_SLACK_MS)
    return after.delivered_pct >= CAPACITY_MIN_DELIVERED and after.p99_ms <= bound


def _capacity(results: Results) -> Check:
    name = f"fan-out capacity ≥ {CAPACITY_RATIO}x Socket.IO's"
    if "product" not in results.fanout or "socketio" not in results.fanout:
        return Check(name, NA, "needs the fan-out of product and socketio")
    p, s = capacity(results.fanout["product"]), capacity(results.fanout["socketio"])
    ratio = f"{p / s:.2f}x" if s else "-"
    return Check(
        name,
        _verdict(p > 0 and p >= CAPACITY_RATIO * s),
        f"{p:,.0f} vs {s:,.0f} deliveries/s: {ratio}",
    )


def _latency(results: Results, rate: int, attr: str, label: str) -> Check:
    name = f"{label} at {rate:,} deliveries/s ≤ Socket.IO's"
    if "product" not in results.fanout or "socketio" not in results.fanout:
        return Check(name, NA, "needs the fan-out of product and socketio")
    p = _at(results.fanout["product"], rate)
    s = _at(results.fanout["socketio"], rate)
    if p is None or s is None:
        return Check(name, NA, f"no fan-out step at {rate:,}/s (--rates)")
    pv, sv = float(getattr(p, attr)), float(getattr(s, attr))
    return Check(name, _verdict(pv <= sv), f"{pv:.1f} vs {sv:.1f} ms")


def _idle_memory(results: Results) -> Check:
    name = f"≤ {IDLE_BYTES / 1000:.0f} KB per idle connection"
    idle = results.idle.get("product")
    if idle is None:
        return Check(name, NA, "needs the idle scenario of product")
    per = idle.kib_per_connection * 1024
    other = results.idle.get("socketio")
    versus = f"; Socket.IO {other.kib_per_connection * 1.024:.1f} KB" if other else ""
    return Check(
        name,
        _verdict(idle.failed == 0 and per <= IDLE_BYTES),
        f"{per / 1000:.1f} KB ({idle.kib_per_connection:.1f} KiB) at {idle.connections:,}{versus}",
    )


def _hold(results: Results) -> Check:
    name = f"{HOLD_CONNECTIONS:,} idle connections held and served by one process"
    hold = results.hold
    if hold is None:
        return Check(name, NA, "needs the hold scenario (--hold 20000)")
    if hold.connections + hold.failed < HOLD_CONNECTIONS:
        return Check(name, NA, f"the run opened {hold.connections + hold.failed:,} only")
    ok = hold.failed == 0 and hold.delivered_pct >= CAPACITY_MIN_DELIVERED
    return Check(
        name,
        _verdict(ok),
        f"{hold.connections:,} held, {hold.failed} failed, {hold.delivered_pct:.2f} % of a step "
        f"delivered to them; {hold.kib_per_connection:.1f} KiB each",
    )


def _opening(results: Results) -> Check:
    name = f"members opened per second ≥ {OPEN_RATIO}x Socket.IO's connect-and-join rate"
    p, s = results.idle.get("product"), results.idle.get("socketio")
    if p is None or s is None:
        return Check(name, NA, "needs the idle scenario of product and socketio")
    pr, sr = p.opened_per_second, s.opened_per_second
    ok = p.failed == 0 and not math.isnan(pr) and not math.isnan(sr) and pr >= OPEN_RATIO * sr
    return Check(name, _verdict(ok), f"{pr:,.0f} vs {sr:,.0f} a second: {pr / sr:.2f}x")


def _delivered_rates(steps: list[StepResult]) -> set[int]:
    return {s.offered for s in steps if s.sent and s.delivered_pct >= CAPACITY_MIN_DELIVERED}


def _redis(results: Results) -> Check:
    name = f"Redis CPU per message ≤ {REDIS_RATIO}x the bare reference's PUBLISH"
    if "product" not in results.fanout or "ceiling" not in results.fanout:
        return Check(name, NA, "needs the fan-out of product and ceiling")
    # Only steps that both delivered in full: a message still queued in a server has not
    # reached Redis yet, and would make its cost look smaller.
    rates = _delivered_rates(results.fanout["product"]) & _delivered_rates(
        results.fanout["ceiling"]
    )
    p = redis_us_per_message(results.fanout["product"], rates)
    c = redis_us_per_message(results.fanout["ceiling"], rates)
    if math.isnan(p) or math.isnan(c) or not c:
        return Check(name, NA, "no fan-out step that both delivered in full")
    return Check(
        name,
        _verdict(p <= REDIS_RATIO * c),
        f"{p:.1f} vs {c:.1f} µs per message ({p / c:.2f}x), over the {len(rates)} steps "
        "both delivered in full",
    )


def _slow(results: Results) -> Check:
    name = "a slow reader costs the others nothing"
    slow = results.slow.get("product")
    if slow is None:
        return Check(name, NA, "needs the slow-reader scenario of product")
    return Check(
        name,
        _verdict(slow_costs_nothing(slow.before, slow.after)),
        f"others' p99 {slow.before.p99_ms:.1f} → {slow.after.p99_ms:.1f} ms, "
        f"{slow.after.delivered_pct:.2f} % delivered while {slow.slow} stalled",
    )


def evaluate(results: Results, latency_rate: int) -> list[Check]:
    """Every target of the issue, in its order."""
    return [
        _capacity(results),
        _latency(results, latency_rate, "p50_ms", "p50"),
        _latency(results, latency_rate, "p99_ms", "p99"),
        _idle_memory(results),
        _hold(results),
        _opening(results),
        _redis(results),
        _slow(results),
    ]


def render_checks(checks: list[Check], title: str = "Targets (issue 16)") -> str:
    width = max((len(c.name) for c in checks), default=0)
    lines = [f"\n### {title}\n"]
    lines += [f"{c.status:<4}  {c.name:<{width}}  {c.detail}" for c in checks]
    counts = {s: sum(c.status == s for c in checks) for s in (PASS, MISS, NA)}
    lines.append(f"\n{counts[PASS]} PASS, {counts[MISS]} MISS, {counts[NA]} n/a")
    return "\n".join(lines)
