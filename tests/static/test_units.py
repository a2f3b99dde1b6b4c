"""The web client's pure ES modules (static/backoff.js, recovery.js, room-model.js,
message-html.js, device.js, standing.js, console-model.js, mood-model.js, outcomes-model.js),
tested with Node's own runner: `node --test tests/static/` runs the same files directly."""

from __future__ import annotations

import re
import subprocess

from tests.support import ROOT, require_binary, timeout


def test_static_units_pass_under_node() -> None:
    node = require_binary("node")
    files = sorted(str(p) for p in (ROOT / "tests" / "static").glob("*.test.js"))
    assert files, "no JavaScript unit tests found"
    run = subprocess.run(
        [node, "--test", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # A runner that found no test also exits 0: count what passed.
    passed = re.search(r"^# pass (\d+)$", run.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) >= len(files), run.stdout[-2000:]
