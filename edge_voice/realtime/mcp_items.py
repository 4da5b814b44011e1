"""MCP items of the GA protocol (reference §4) as internal events, each final item once.

The server reports MCP work as conversation items (`mcp_list_tools`, `mcp_call`,
`mcp_approval_request`) that arrive as `conversation.item.added/done` and, inside a response,
as `response.output_item.added/done`: the same item can come up to four times.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from edge_voice.realtime import normalized as ev

MCP_ITEM_TYPES = frozenset({"mcp_list_tools", "mcp_call", "mcp_approval_request"})

McpItemEvent = ev.McpToolsListed | ev.McpCallDone | ev.McpApprovalRequest


def mcp_approval_response_item(
    approval_request_id: str, approve: bool, reason: str | None = None
) -> dict[str, Any]:
    """The item answering an `mcp_approval_request` (sent with conversation.item.create)."""
    item: dict[str, Any] = {
        "type": "mcp_approval_response",
        "approval_request_id": approval_request_id,
        "approve": approve,
    }
    if reason:
        item["reason"] = reason
    return item


def _error_text(error: object) -> str | None:
    # The SDK's error union: protocol_error / tool_execution_error / http_error, each a message.
    if error is None:
        return None
    if isinstance(error, Mapping):
        message = str(error.get("message", ""))
        kind = str(error.get("type", "error"))
        return f"{kind}: {message}" if message else kind
    return str(error)


def _tool_names(tools: object) -> tuple[str, ...]:
    if not isinstance(tools, list):
        return ()
    return tuple(str(t["name"]) for t in tools if isinstance(t, Mapping) and t.get("name"))


class McpItems:
    """Turns MCP items into internal events, each final item once; one per connection."""

    _MAX_TRACKED = 256

    def __init__(self) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._labels: OrderedDict[str, str] = OrderedDict()

    def label_of(self, list_item_id: str) -> str:
        """The server_label of an `mcp_list_tools` item seen before ("" if none was)."""
        return self._labels.get(list_item_id, "")

    def event(self, item: Mapping[str, Any], *, final: bool) -> McpItemEvent | None:
        """The event of `item` if it is an MCP item seen complete for the first time."""
        kind = item.get("type")
        item_id = str(item.get("id", ""))
        if kind == "mcp_list_tools":
            # `mcp_list_tools.*` progress events name only the item: remember its server.
            self._labels[item_id] = str(item.get("server_label", ""))
            if len(self._labels) > self._MAX_TRACKED:
                self._labels.popitem(last=False)
        if kind not in MCP_ITEM_TYPES or item_id in self._seen:
            return None
        event = self._convert(kind, item_id, item, final)
        if event is not None:
            self._seen[item_id] = None
            if len(self._seen) > self._MAX_TRACKED:
                self._seen.popitem(last=False)
        return event

    @staticmethod
    def _convert(
        kind: object, item_id: str, item: Mapping[str, Any], final: bool
    ) -> McpItemEvent | None:
        label = str(item.get("server_label", ""))
        name = str(item.get("name", ""))
        arguments = str(item.get("arguments", "") or "")
        if kind == "mcp_approval_request":  # complete from its first appearance
            return ev.McpApprovalRequest(item_id, label, name, arguments)
        if kind == "mcp_list_tools":
            return (
                ev.McpToolsListed(item_id, label, _tool_names(item.get("tools"))) if final else None
            )
        output, error = item.get("output"), _error_text(item.get("error"))
        if not final or (output is None and error is None):
            return None
        return ev.McpCallDone(item_id, label, name, arguments, output and str(output), error)
