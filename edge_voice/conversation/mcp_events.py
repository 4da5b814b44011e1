"""Native MCP in a conversation: tool lists logged, approvals answered, calls on MQTT.

OpenAI's servers call the MCP server themselves; the service only answers approval requests
(from each server's `approved_tools`, denying everything else) and asks for the follow-up
answer: a response that ends on an MCP call or approval request is not answered by itself
(reference §4), so once the calls are done and the approvals sent, `response.create` goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from edge_voice.conversation.error_codes import ConversationErrorCode as Code
from edge_voice.conversation.states import Status
from edge_voice.events import McpCallReported
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import RealtimeError
from edge_voice.realtime.mcp_items import mcp_approval_response_item
from edge_voice.realtime.protocol import ConversationItemCreate

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

#: An MCP result can be large; MQTT gets its beginning (the model has it all).
MAX_PUBLISHED_OUTPUT = 4000
_WAITING_ITEMS = frozenset({"mcp_call", "mcp_approval_request"})


class McpHandler:
    """The MCP part of the downlink (one per assistant, like SessionEventHandler)."""

    def __init__(self, assistant: Assistant, model: Callable[[], str]) -> None:
        self.a = assistant
        self._model = model
        self._running: set[str] = set()
        self._follow_up = False

    def handlers(self) -> dict[type, Callable[[Any], Awaitable[None]]]:
        """The events this handler acts on."""
        return {
            ev.McpListToolsProgress: self._list_progress,
            ev.McpToolsListed: self._tools_listed,
            ev.McpCallProgress: self._call_progress,
            ev.McpCallDone: self._call_done,
            ev.McpApprovalRequest: self._approval_request,
        }

    def response_done(self, event: ev.ResponseDone) -> bool:
        """Whether the response ended waiting on MCP (the follow-up is asked for here)."""
        last = event.output[-1] if event.output else None
        if last is None or last.get("type") not in _WAITING_ITEMS:
            return False
        self._follow_up = True
        self.a.spawn(self._ask_follow_up())
        return True

    async def _list_progress(self, event: ev.McpListToolsProgress) -> None:
        if event.status == "failed":
            server = (
                f"the MCP server {event.server_label}" if event.server_label else "an MCP server"
            )
            self.a.report_error(
                Code.MCP_LIST_TOOLS_FAILED,
                f"OpenAI could not list the tools of {server} (item {event.item_id}); "
                "the model goes on without them",
            )

    async def _tools_listed(self, event: ev.McpToolsListed) -> None:
        log.info(
            "MCP server %s offers %d tool(s): %s",
            event.server_label,
            len(event.tools),
            ", ".join(event.tools) or "none",
        )

    async def _call_progress(self, event: ev.McpCallProgress) -> None:
        if event.status == "in_progress":
            self._running.add(event.item_id)
            return
        self._running.discard(event.item_id)
        await self._ask_follow_up()

    async def _call_done(self, event: ev.McpCallDone) -> None:
        self._running.discard(event.item_id)
        output = event.output[:MAX_PUBLISHED_OUTPUT] if event.output is not None else None
        self._publish(event, "failed" if event.error else "completed", output, event.error)

    async def _approval_request(self, event: ev.McpApprovalRequest) -> None:
        approve = self._approves(event.server_label, event.name)
        reason = None if approve else f"{event.name} is not in approved_tools"
        link = self.a.link
        if link is None:
            return
        item = mcp_approval_response_item(event.approval_request_id, approve, reason)
        try:
            await link.session.send_event(ConversationItemCreate(item=item))
        except RealtimeError as exc:
            self.a.report_error(exc.error_code, str(exc))
            return
        log.info("MCP %s.%s: %s", event.server_label, event.name, "approved" if approve else reason)
        self._publish(event, "approved" if approve else "denied", None, None)

    def _approves(self, server_label: str, tool: str) -> bool:
        for server in self.a.config.openai.mcp_servers:
            if server.server_label == server_label:
                return server.approves(tool)
        return False  # a server the config does not name (any more): deny

    def _publish(
        self,
        event: ev.McpCallDone | ev.McpApprovalRequest,
        status: Any,
        output: str | None,
        error: str | None,
    ) -> None:
        item_id = event.item_id if isinstance(event, ev.McpCallDone) else event.approval_request_id
        self.a.bus.publish(
            McpCallReported(
                server_label=event.server_label,
                name=event.name,
                arguments=event.arguments,
                status=status,
                model=self._model(),
                item_id=item_id,
                output=output,
                error=error,
            )
        )

    async def _ask_follow_up(self) -> None:
        a = self.a
        if not self._follow_up or self._running:
            return
        link = a.link
        if link is None or a.status is not Status.RESPONDING or link.response_active:
            return
        self._follow_up = False
        try:
            await link.create_response()
        except RealtimeError as exc:
            a.report_error(exc.error_code, str(exc))
