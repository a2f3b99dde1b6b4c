"""The bench's scenarios run end to end at a tiny scale, so the tool cannot rot.

Real processes as `make bench` starts them (a redis-server, the product and both references,
load generators); only the shape of the results is checked, never a timing.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.__main__ import DEFAULT_ENV, run, server_env
from bench.procs import Cores, load_env
from bench.report import render
from bench.scenarios import TARGETS, Config, StepResult
from tests.support import require_binary

pytestmark = pytest.mark.cluster


def _check_steps(steps: list[StepResult]) -> None:
    assert steps, "no step ran"
    for step in steps:
        assert step.sent > 0
        assert step.expected >= step.sent
        assert 0 <= step.received <= step.expected
        assert step.server_cpu >= 0 and step.generator_cpu >= 0
        if step.received:
            assert 0 < step.p50_ms <= step.p99_ms <= step.max_ms
            assert not math.isnan(step.cpu_us_per_delivery)


def test_every_scenario_runs_against_every_target(tmp_path: Path) -> None:
    require_binary("redis-server")
    cfg = Config(
        rooms=2,
        members=3,
        rates=[30],
        step_seconds=0.3,
        drain_seconds=0.2,
        warmup_seconds=0,
        idle_connections=6,
        settle_seconds=0.1,
        idle_check_rate=30,
        scaleout_rates=[30],
        slow_readers=1,
        slow_rate=30,
        slow_step_seconds=0.3,
        parallel_connects=4,
    )
    env = server_env(load_env(DEFAULT_ENV), tmp_path, rooms=cfg.rooms)

    results = run(cfg, env, Cores.detect(), tmp_path)

    assert set(results.fanout) == set(TARGETS)
    for target in TARGETS:
        _check_steps(results.fanout[target])
        assert results.fanout[target][0].received > 0, f"{target}: nothing delivered"
        _check_steps(results.scaleout[target])
        idle = results.idle[target]
        assert idle.connections == cfg.idle_connections and idle.failed == 0
        assert idle.rss_before_kib > 0 and idle.rss_after_kib > 0
        assert idle.check is not None and idle.check.received > 0, f"{target}: idle not held"
        slow = results.slow[target]
        _check_steps([slow.before, slow.after])
        assert slow.slow == cfg.slow_readers
    table = render(results, cfg.targets, [30])
    assert "Summary (product ÷ reference)" in table
    assert "fan-out capacity, deliveries/s" in table
    assert "÷ baseline" in table and "÷ ceiling" in table


def test_load_env_reads_key_value_lines(tmp_path: Path) -> None:
    path = tmp_path / "load.env"
    path.write_text("# comment\n\nSEND_BURST = 10\nFRAME_BURST=20\n")
    assert load_env(path) == {"SEND_BURST": "10", "FRAME_BURST": "20"}
    path.write_text("NOT A SETTING\n")
    with pytest.raises(ValueError, match="KEY=VALUE"):
        load_env(path)


def test_the_shipped_load_env_is_valid_for_the_server() -> None:
    from server.settings import Settings

    settings = Settings.from_env({**load_env(DEFAULT_ENV), "SECRET_KEY": "x" * 32})
    assert settings.send_per_second >= 100
    assert settings.max_connections_per_address == 0
