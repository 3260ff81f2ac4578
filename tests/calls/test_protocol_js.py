"""static/js/protocol.js mirrors calls/protocol.py: same types, fields and codes.

After changing the protocol, `python scripts/sync_protocol_js.py` rewrites the mirror.
"""

import json
import shutil
import subprocess
from pathlib import Path

from calls.protocol import protocol_spec

ROOT = Path(__file__).resolve().parents[2]


def test_protocol_js_spec_equals_the_python_definition():
    node = shutil.which("node")
    assert node, "node is needed to read static/js/protocol.js"
    script = "import(process.argv[1]).then(m => process.stdout.write(JSON.stringify(m.SPEC)))"
    out = subprocess.run(
        [node, "-e", script, (ROOT / "static/js/protocol.js").as_uri()],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == protocol_spec()
