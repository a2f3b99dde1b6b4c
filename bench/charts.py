"""SVG charts of a bench run for docs/performance.md (matplotlib: the `bench` extra).

    fanout.svg     p99 and delivered against offered load, one line per server
    scaleout.svg   the same for two processes on one Redis
    memory.svg     memory per idle connection, per server, against the 13 KB target

The files carry no date and fixed element ids, so a chart changes in git only when its figures
do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import Results
from bench.scenarios import CAPACITY_MAX_P99_MS, StepResult
from bench.targets import IDLE_BYTES

__all__ = ["write_charts"]

_COLOURS = {
    "product": "#1b6ca8",
    "socketio": "#d1495b",
    "ceiling": "#66a182",
    "baseline": "#8d8d8d",
}


def _steps_chart(plt: Any, data: dict[str, list[StepResult]], title: str, path: Path) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 7), sharex=True)
    for target, steps in data.items():
        if not steps:
            continue
        offered = [s.offered for s in steps]
        colour = _COLOURS.get(target)
        top.plot(offered, [s.p99_ms for s in steps], marker="o", label=target, color=colour)
        bottom.plot(
            offered, [s.delivered_per_s for s in steps], marker="o", label=target, color=colour
        )
    top.axhline(
        CAPACITY_MAX_P99_MS,
        color="#444",
        linestyle=":",
        linewidth=1,
        label=f"capacity rule ({CAPACITY_MAX_P99_MS:.0f} ms)",
    )
    top.set_yscale("log")
    top.set_ylabel("p99 latency, ms (log)")
    top.set_title(title)
    top.legend()
    top.grid(True, which="both", alpha=0.3)
    limit = max((s.offered for steps in data.values() for s in steps), default=1)
    bottom.plot([0, limit], [0, limit], color="#444", linestyle=":", linewidth=1)
    bottom.set_xlabel("offered deliveries/s")
    bottom.set_ylabel("delivered/s")
    bottom.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def _memory_chart(plt: Any, results: Results, path: Path) -> None:
    names = list(results.idle)
    values = [results.idle[t].kib_per_connection * 1.024 for t in names]  # KiB → KB
    labels = [f"{t}\n({results.idle[t].connections:,})" for t in names]
    if results.hold is not None:
        labels.append(f"product\n({results.hold.connections:,}, hold)")
        values.append(results.hold.kib_per_connection * 1.024)
        names.append("product")
    fig, ax = plt.subplots(figsize=(7.5, 4))
    bars = ax.bar(labels, values, color=[_COLOURS.get(t, "#888") for t in names])
    ax.bar_label(bars, fmt="%.1f")
    ax.axhline(
        IDLE_BYTES / 1000,
        color="#444",
        linestyle=":",
        linewidth=1,
        label=f"target ({IDLE_BYTES / 1000:.0f} KB)",
    )
    ax.legend(loc="upper right")
    ax.set_ylabel("KB per idle connection (RSS growth)")
    ax.set_title("Memory per joined, idle connection (connections in brackets)")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def write_charts(results: Results, directory: Path) -> list[Path] | str:
    """The charts this run has figures for; a reason instead when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'; make bench does)"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "peer-support-bench"  # stable element ids
    plt.rcParams["svg.fonttype"] = "none"  # text as text: small files, readable diffs
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if results.fanout:
        path = directory / "fanout.svg"
        _steps_chart(plt, results.fanout, "Fan-out, one process", path)
        written.append(path)
    if results.scaleout:
        path = directory / "scaleout.svg"
        _steps_chart(plt, results.scaleout, "Scale-out, two processes on one Redis", path)
        written.append(path)
    if results.idle:
        path = directory / "memory.svg"
        _memory_chart(plt, results, path)
        written.append(path)
    return written
