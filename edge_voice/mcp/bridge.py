"""The local MCP bridge: every configured server's tools as function tools, calls run here."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge_voice.config.mcp_schema import McpBridgeConfig
from edge_voice.mcp.naming import McpUnavailable, ToolResult, exposed_name, tool_result

if TYPE_CHECKING:
    from edge_voice.mcp.link import McpLink

log = logging.getLogger(__name__)

_NO_PARAMS: Mapping[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class McpTool:
    """One MCP tool as the model sees it, and where it really lives."""

    name: str
    server: str
    tool: str
    description: str
    parameters: Mapping[str, Any]


class McpBridge:
    """Owns one link per server; `tools()` is what the model may call now."""

    def __init__(
        self, cfg: McpBridgeConfig, on_change: Callable[[dict[str, McpTool]], None] | None = None
    ) -> None:
        self._links: dict[str, McpLink] = {}
        if cfg.servers:  # the SDK (0.5 s of imports) only when a server is configured
            from edge_voice.mcp.link import McpLink

            self._links = {
                s.name: McpLink(s, self._changed, reconnect_max_s=cfg.reconnect_max_s)
                for s in cfg.servers
            }
        self.on_change = on_change
        self._tools: dict[str, McpTool] = {}

    def tools(self) -> dict[str, McpTool]:
        """The tools of every connected server, by their exposed name."""
        return dict(self._tools)

    async def run(self) -> None:
        """Keep every server connected until cancelled (returns at once without servers)."""
        async with asyncio.TaskGroup() as group:
            for name, link in self._links.items():
                group.create_task(link.run(), name=f"edge_voice.mcp.{name}")

    async def call(self, name: str, arguments: str) -> tuple[str | None, str | None]:
        """(output, error) of one call; the caller bounds it with the call deadline."""
        result = await self.run_tool(name, arguments)
        return result.output, result.error

    async def run_tool(self, name: str, arguments: str) -> ToolResult:
        """One call's output or error, and any image it returned (bounded by the caller)."""
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult(None, f"the tool {name} is no longer offered by its MCP server")
        try:
            args = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            return ToolResult(None, f"the arguments are not JSON: {exc}")
        if not isinstance(args, dict):
            return ToolResult(None, "the arguments must be a JSON object")
        try:
            result = await self._links[tool.server].call(tool.tool, args)
        except McpUnavailable as exc:
            log.warning("MCP call %s: %s", name, exc)
            return ToolResult(None, str(exc))
        return tool_result(result)

    def _changed(self) -> None:
        tools: dict[str, McpTool] = {}
        for server, link in self._links.items():
            for tool in link.tools:
                name = exposed_name(server, tool.name, set(tools))
                tools[name] = McpTool(
                    name,
                    server,
                    tool.name,
                    tool.description or tool.title or tool.name,
                    tool.input_schema or _NO_PARAMS,
                )
        self._tools = tools
        if self.on_change is not None:
            self.on_change(self.tools())
