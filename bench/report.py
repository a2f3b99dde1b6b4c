"""Tables of a bench run, with the product's figures set against every reference."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.scenarios import (
    CAPACITY_MAX_P99_MS,
    CAPACITY_MIN_DELIVERED,
    IdleResult,
    SlowResult,
    StepResult,
    capacity,
)

__all__ = ["Results", "machine", "render"]


@dataclass
class Results:
    """Everything a run measured, by target name."""

    fanout: dict[str, list[StepResult]] = field(default_factory=dict)
    fanout_connect_s: dict[str, float] = field(default_factory=dict)
    idle: dict[str, IdleResult] = field(default_factory=dict)
    scaleout: dict[str, list[StepResult]] = field(default_factory=dict)
    slow: dict[str, SlowResult] = field(default_factory=dict)
    hold: IdleResult | None = None  # the product alone, HOLD_CONNECTIONS idle members


def machine(server_cores: str, generator_cores: str) -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pinning = (
        f"server on CPU {server_cores}, generators and redis on CPU {generator_cores}"
        if server_cores
        else "not pinned (no taskset or one core)"
    )
    return (
        f"{os.cpu_count()} x {model}; Python {platform.python_version()}; "
        f"{platform.system()} {platform.release()}; {pinning}"
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, rule, *body])


def _f(value: float, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _steps_table(steps: list[StepResult]) -> str:
    headers = [
        "offered/s",
        "msgs/s",
        "delivered/s",
        "delivered",
        "p50 ms",
        "p99 ms",
        "max ms",
        "server CPU",
        "µs/delivery",
        "gen CPU",
        "redis CPU",
        "errors",
    ]
    rows = [
        [
            f"{s.offered:,}",
            _f(s.messages_per_s, 0),
            _f(s.delivered_per_s, 0),
            f"{s.delivered_pct:.2f} %",
            _f(s.p50_ms),
            _f(s.p99_ms),
            _f(s.max_ms),
            f"{s.server_cpu:.0f} %",
            _f(s.cpu_us_per_delivery, 2),
            f"{s.generator_cpu:.0f} %" + (" SAT" if s.generator_cpu > 90 else ""),
            f"{s.redis_cpu:.0f} %",
            str(sum(s.errors.values()) or ""),
        ]
        for s in steps
    ]
    return _table(headers, rows)


def _at(steps: list[StepResult], rate: int) -> StepResult | None:
    return next((s for s in steps if s.offered == rate), None)


def _ratio(a: float, b: float) -> str:
    if not b or math.isnan(a) or math.isnan(b):
        return "-"
    return f"{a / b:.2f}x"


def render(results: Results, targets: list[str], mark_rates: list[int]) -> str:
    out: list[str] = []
    for title, data in (
        ("Fan-out", results.fanout),
        ("Scale-out (two processes)", results.scaleout),
    ):
        for target in targets:
            if target in data:
                out.append(f"\n### {title}: {target}\n")
                out.append(_steps_table(data[target]))
    out.append(
        f"\ncapacity = delivered/s of the highest step with ≥ {CAPACITY_MIN_DELIVERED} % "
        f"delivered and p99 < {CAPACITY_MAX_P99_MS:.0f} ms; CPU in % of one core; µs/delivery "
        "= server CPU per delivered frame; gen CPU SAT = generator saturated"
    )

    rows: list[list[str]] = []
    references = [t for t in targets if t != "product"]

    def add(name: str, get: Callable[[str], float | None], digits: int = 1) -> None:
        values = {t: get(t) for t in targets}
        if all(v is None for v in values.values()):
            return  # no target has this figure in this run (a rate it did not reach)
        nums = {t: (math.nan if v is None else v) for t, v in values.items()}
        product = nums.get("product", math.nan)
        rows.append(
            [
                name,
                *(_f(nums[t], digits) for t in targets),
                *(_ratio(product, nums[t]) for t in references),
            ]
        )

    def step_value(
        data: dict[str, list[StepResult]], attr: str, mark_rate: int
    ) -> Callable[[str], float | None]:
        def get(t: str) -> float | None:
            step = _at(data.get(t, []), mark_rate)
            return None if step is None else float(getattr(step, attr))

        return get

    if results.fanout:
        add(
            "fan-out capacity, deliveries/s",
            lambda t: capacity(results.fanout[t]) if t in results.fanout else None,
            0,
        )
        for mark_rate in mark_rates:
            add(
                f"fan-out p50 at {mark_rate:,}/s, ms",
                step_value(results.fanout, "p50_ms", mark_rate),
            )
            add(
                f"fan-out p99 at {mark_rate:,}/s, ms",
                step_value(results.fanout, "p99_ms", mark_rate),
            )
            add(
                f"fan-out server CPU at {mark_rate:,}/s, %",
                step_value(results.fanout, "server_cpu", mark_rate),
            )
            add(
                f"fan-out µs CPU/delivery at {mark_rate:,}/s",
                step_value(results.fanout, "cpu_us_per_delivery", mark_rate),
                2,
            )
            add(
                f"fan-out redis µs CPU/message at {mark_rate:,}/s",
                step_value(results.fanout, "redis_us_per_message", mark_rate),
            )
        add("time to connect the fan-out members, s", results.fanout_connect_s.get, 2)
    if results.idle:
        n = next(iter(results.idle.values())).connections
        add(
            f"idle: KiB per connection ({n:,} joined)",
            lambda t: results.idle[t].kib_per_connection if t in results.idle else None,
        )
        add(
            f"idle: seconds to connect {n:,}",
            lambda t: results.idle[t].connect_seconds if t in results.idle else None,
            2,
        )
        add(
            "idle: members opened per second",
            lambda t: results.idle[t].opened_per_second if t in results.idle else None,
            0,
        )
        add(
            f"idle: % delivered to the {n:,} afterwards",
            lambda t: results.idle[t].delivered_pct if t in results.idle else None,
            2,
        )
    if results.scaleout:
        add(
            "scale-out capacity, deliveries/s",
            lambda t: capacity(results.scaleout[t]) if t in results.scaleout else None,
            0,
        )
        for mark_rate in mark_rates:
            add(
                f"scale-out p99 at {mark_rate:,}/s, ms",
                step_value(results.scaleout, "p99_ms", mark_rate),
            )
    if results.slow:
        add(
            "slow reader: others' p99 before, ms",
            lambda t: results.slow[t].before.p99_ms if t in results.slow else None,
        )
        add(
            "slow reader: others' p99 after, ms",
            lambda t: results.slow[t].after.p99_ms if t in results.slow else None,
        )
        add(
            "slow reader: p99 change, %",
            lambda t: results.slow[t].p99_change_pct if t in results.slow else None,
        )
    if rows:
        out.append("\n### Summary (product ÷ reference)\n")
        out.append(_table(["figure", *targets, *(f"÷ {t}" for t in references)], rows))
    if results.slow:
        closed = {t: r.closed or "none" for t, r in results.slow.items()}
        out.append(f"\nslow readers closed by the server (close code: count): {closed}")
    if results.hold is not None:
        hold = results.hold
        out.append(
            f"\nhold (product): {hold.connections:,} joined ({hold.failed} failed) in "
            f"{hold.connect_seconds:.1f} s, {hold.kib_per_connection:.1f} KiB each, "
            f"{hold.delivered_pct:.2f} % of a step delivered to them"
        )
    return "\n".join(out)
