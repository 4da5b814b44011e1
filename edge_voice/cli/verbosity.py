"""Log levels of every command: `-v`/`-q`, before or after the sub-command, win over `log_level`.

`-v` is DEBUG without the frame dumps (MQTT packets, websocket frames with every audio chunk);
`-vv` adds them (TRACE). `-q` shows warnings and errors only, `-qq` errors only.
"""

from __future__ import annotations

import argparse
import logging
from typing import Final

from edge_voice.mqtt.connection import PACKET_LOGGER
from edge_voice.realtime.session import FRAME_LOGGER

TRACE: Final = 5
logging.addLevelName(TRACE, "TRACE")

#: Loggers of frame dumps: quiet below TRACE, whatever the level.
DUMP_LOGGERS: Final = (PACKET_LOGGER, FRAME_LOGGER)
_BY_VERBOSITY: Final = {-2: logging.ERROR, -1: logging.WARNING, 1: logging.DEBUG, 2: TRACE}


def add_verbosity(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    """-v and -q; on a sub-command they only count when given (the main parser keeps its own)."""
    default = argparse.SUPPRESS if sub else 0
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="more log: -v debug, -vv also MQTT packets and websocket frames",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=default,
        help="less output: warnings and errors only (-qq: errors only)",
    )


def level_from_flags(args: argparse.Namespace) -> int | None:
    """The level -v/-q ask for, or None when neither was given (the config decides)."""
    verbose, quiet = getattr(args, "verbose", 0), getattr(args, "quiet", 0)
    if not verbose and not quiet:
        return None
    return _BY_VERBOSITY.get(max(-2, min(2, verbose - quiet)), logging.INFO)


def apply_level(level: int | str) -> None:
    """Set the root level; the frame dumps stay off unless the level is TRACE."""
    number = level if isinstance(level, int) else int(logging.getLevelName(level))
    trace = number <= TRACE
    logging.getLogger().setLevel(logging.DEBUG if trace else number)
    for name in DUMP_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if trace else max(number, logging.INFO))
