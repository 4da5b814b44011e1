"""How MCP tools look to the model: prefixed, unique names; results as text; the bearer token."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from edge_voice.config.mcp_schema import McpServerConfig
from edge_voice.config.secret_sources import read_secret_env, read_secret_file

if TYPE_CHECKING:  # the SDK costs 0.5 s of start-up: only a configured MCP server loads it
    from mcp import types

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_NAME = 64  # the realtime API's limit on a function name


class TokenError(Exception):
    """The token could not be read (the message names the file or variable, never the value)."""


class McpUnavailable(Exception):
    """The server is not connected (or went away during the call)."""


def exposed_name(server: str, tool: str, taken: set[str]) -> str:
    """`mcp_<server>_<tool>`, made safe, at most 64 characters and not in `taken`."""
    name = f"mcp_{server}_{_UNSAFE.sub('_', tool)}"
    if len(name) <= MAX_NAME and name not in taken:
        return name
    digest = hashlib.sha256(f"{server}/{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def output_text(result: types.CallToolResult) -> tuple[str | None, str | None]:
    """(output, error) of a tool result: its text content; an MCP tool error becomes the error."""
    from mcp import types  # loaded by then: the result came from the SDK

    texts = [part.text for part in result.content if isinstance(part, types.TextContent)]
    text = "\n".join(texts)
    if result.is_error:
        return None, text or "the tool failed"
    if not texts and result.structured_content is not None:
        return json.dumps(result.structured_content), None
    return text or json.dumps({"ok": True}), None


@dataclass(frozen=True)
class ToolResult:
    """One call's outcome: its text output or error, and the first image it returned, if any."""

    output: str | None
    error: str | None
    #: (MIME type, base64 data) of an ImageContent part, unchecked.
    image: tuple[str, str] | None = None


def tool_result(result: types.CallToolResult) -> ToolResult:
    """`output_text`, plus the result's first ImageContent (a camera snapshot, say)."""
    from mcp import types  # loaded by then: the result came from the SDK

    output, error = output_text(result)
    image = next((p for p in result.content if isinstance(p, types.ImageContent)), None)
    if error is not None or image is None:
        return ToolResult(output, error)
    return ToolResult(output, None, (image.mime_type, image.data))


def read_token(server: McpServerConfig, env: Mapping[str, str] | None = None) -> SecretStr | None:
    """The server's bearer token from its file or variable, or None when it needs none."""
    env = os.environ if env is None else env
    where = f"mcp_bridge.servers[{server.name}]"
    if server.token_env is not None:
        return SecretStr(read_secret_env(env, server.token_env, f"{where}.token_env", TokenError))
    if server.token_file is None:
        return None
    return SecretStr(read_secret_file(server.token_file, f"{where}.token_file", TokenError))
