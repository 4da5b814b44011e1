"""SIGINT and SIGTERM for the long-running commands: cancel the main task, say so once."""

from __future__ import annotations

import asyncio
import logging
import signal

log = logging.getLogger("edge_voice")

#: The exit code of a command stopped by Ctrl-C before it finished its job (128 + SIGINT).
EXIT_INTERRUPTED = 130


def stop_on_signals() -> None:
    """SIGINT and SIGTERM cancel the running task, which then stops in order; logged once."""
    task = asyncio.current_task()
    assert task is not None, "called from the command's main task"
    seen: list[str] = []

    def stop(sig: signal.Signals) -> None:
        if not seen:
            log.info("%s: shutting down", sig.name)
        seen.append(sig.name)
        task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
