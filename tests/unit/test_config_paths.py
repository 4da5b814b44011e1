"""A path the operating system cannot open is a config error, not a traceback later."""

from __future__ import annotations

import pytest

from edge_voice.config.loading import ConfigError, validate_config


def test_a_state_dir_with_a_nul_byte_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="state_dir: a path cannot contain a NUL byte"):
        validate_config({"state_dir": "/tmp/a\x00b"})
