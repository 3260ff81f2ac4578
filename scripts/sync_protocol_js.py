"""Rewrite the SPEC literal in static/js/protocol.js from calls.protocol.protocol_spec().

    .venv/bin/python scripts/sync_protocol_js.py

tests/calls/test_protocol_js.py fails until the two agree.
"""

import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from calls.protocol import protocol_spec  # noqa: E402


def js_literal(value, indent=0) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            name = key if re.fullmatch(r"[A-Za-z_$][\w$]*", key) else json.dumps(key)
            items.append(f"{pad}  {name}: {js_literal(item, indent + 1)},")
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    return json.dumps(value)


def main() -> None:
    path = ROOT / "static/js/protocol.js"
    source = path.read_text()
    start = source.index("export const SPEC = Object.freeze(") + len(
        "export const SPEC = Object.freeze("
    )
    end = source.index(");\n", start)
    path.write_text(source[:start] + js_literal(protocol_spec()) + source[end:])


if __name__ == "__main__":
    main()
