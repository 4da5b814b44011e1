"""The real `edge-voice` CLI as a subprocess, as a user starts it."""

from __future__ import annotations

import asyncio
import os
import sys

#: Any non-empty key: the simulator accepts it.
TEST_KEY = "sk-test-e2e-0001"


async def edge_voice(*args: str, key: str | None = TEST_KEY) -> asyncio.subprocess.Process:
    """`python -m edge_voice ARGS`, with OPENAI_API_KEY set to `key` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edge_voice",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
