"""The browser signalling client's own tests (tests/js/, node:test) pass."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_signaling_js_node_tests_pass():
    """`node --test tests/js/` exits 0; on failure node's report is shown."""
    node = shutil.which("node")
    assert node, "node is needed to run tests/js/ (static/js/signaling.js); install it"
    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, (
        f"node --test tests/js/ exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
