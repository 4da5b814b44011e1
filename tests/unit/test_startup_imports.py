"""Start-up imports only what every run needs: the MCP SDK (0.5 s) waits for an MCP server."""

from __future__ import annotations

import subprocess
import sys


def test_the_run_path_does_not_import_the_mcp_sdk() -> None:
    probe = (
        "import sys, edge_voice.cli.main, edge_voice.service, edge_voice.sim.realtime_server;"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
