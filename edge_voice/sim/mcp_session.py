"""Native MCP in a simulated session, as OpenAI's cloud does it (reference §4, the SDK's shapes).

- An `mcp` session tool is listed when a session.update brings it (or changes it): a
  `mcp_list_tools` item (`conversation.item.added`), `mcp_list_tools.in_progress`, the listed
  tools honouring `allowed_tools` (`conversation.item.done`), `mcp_list_tools.completed`; or
  `mcp_list_tools.failed` when the server cannot be reached.
- A scenario turn with `mcp:` makes the model call the tool once its server listed it. Where
  `require_approval` asks for it, the response carries an `mcp_approval_request` item and ends;
  the client answers with an `mcp_approval_response` item and `response.create`. That response
  (or, without approval, the first one) carries the `mcp_call` item: arguments, then
  `response.mcp_call.in_progress`, and the response ends while the tool runs on the real
  server. The output (or the error: `response.mcp_call.failed`) arrives on the item's
  `conversation.item.done` after `response.done`. No follow-up starts by itself: the client's
  next `response.create` speaks the turn's `after_call` (`{output}`) or `on_error` (`{error}`).
- A denied call is not made: the `mcp_call` item carries the error at once (the sim's choice
  of error: `tool_execution_error`) and the same response speaks `on_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed

from edge_voice.sim import wire
from edge_voice.sim.conversation import Item, text_tokens
from edge_voice.sim.dialogue import Reply, fill
from edge_voice.sim.errors import ClientError
from edge_voice.sim.scenario import Turn

if TYPE_CHECKING:
    from edge_voice.sim.connection import RealtimeConnection
    from edge_voice.sim.responses import ActiveResponse

log = logging.getLogger(__name__)

DEFAULT_ON_ERROR = "Sorry, that didn't work: {error}"


@dataclass
class _Server:
    entry: dict[str, Any]
    signature: str
    #: The listed (allowed) tools; None while listing or after a failed listing.
    tools: list[dict[str, Any]] | None = None
    listed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Approval:
    turn: Turn
    entry: dict[str, Any]
    arguments: str
    #: The approval request's id, once one was asked for.
    request_id: str | None = None
    approve: bool = False
    reason: str | None = None


@dataclass
class _Outcome:
    turn: Turn
    output: str | None
    error: str | None


def allowed(entry: dict[str, Any], tool: str) -> bool:
    """Whether the entry's `allowed_tools` (a list or `{tool_names: [...]}`) lets `tool` in."""
    rule = entry.get("allowed_tools")
    if rule is None:
        return True
    names = rule.get("tool_names") if isinstance(rule, dict) else rule
    return names is None or tool in names


def needs_approval(entry: dict[str, Any], tool: str) -> bool:
    """`require_approval`: "always" (the default), "never", or `{always|never: {tool_names}}`."""
    rule = entry.get("require_approval", "always")
    if isinstance(rule, str):
        return rule != "never"
    if not isinstance(rule, dict):
        return True
    never = (rule.get("never") or {}).get("tool_names") or []
    return tool not in never


class McpSession:
    """The MCP part of one connection: listed servers, approvals asked, outcomes to speak."""

    def __init__(self, conn: RealtimeConnection) -> None:
        self.conn = conn
        self._servers: dict[str, _Server] = {}
        self._approvals: dict[str, _Approval] = {}
        self._answered: _Approval | None = None
        self._outcome: _Outcome | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def tools_changed(self, tools: list[dict[str, Any]]) -> None:
        """The session's tools changed: list each new or changed `mcp` server."""
        wanted = {str(t["server_label"]): t for t in tools if t.get("type") == "mcp"}
        for label in set(self._servers) - set(wanted):
            del self._servers[label]
        for label, entry in wanted.items():
            signature = json.dumps(entry, sort_keys=True, default=str)
            current = self._servers.get(label)
            if current is not None and current.signature == signature:
                continue
            server = _Server(dict(entry), signature)
            self._servers[label] = server
            self.spawn(self._list(label, server))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run MCP work in the background of the connection (cancelled when it closes)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop listings and calls still running."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task

    def check_request(self, request_id: str) -> None:
        """ClientError unless `request_id` is an approval request still waiting for its answer."""
        if request_id not in self._approvals:
            raise ClientError(
                "invalid_value",
                f"Approval request ID '{request_id}' not found in conversation.",
                param="item.approval_request_id",
            )

    def approval_answered(self, item: Item) -> None:
        """The client answered an approval request; the next response acts on it."""
        approval = self._approvals.pop(str(item.mcp["approval_request_id"]))
        approval.approve = bool(item.mcp["approve"])
        approval.reason = item.mcp.get("reason")
        self._answered = approval

    def follow_up(self) -> tuple[Reply, McpStep | None] | None:
        """What the next response does for MCP, before any new user turn: speak an outcome,
        or make the call an approval was answered for."""
        if self._outcome is not None:
            outcome, self._outcome = self._outcome, None
            turn = outcome.turn
            if outcome.error is None:
                return Reply(fill(turn.after_call or "Done.", output=outcome.output or "")), None
            return Reply(fill(turn.on_error or DEFAULT_ON_ERROR, error=outcome.error)), None
        if self._answered is not None:
            approval, self._answered = self._answered, None
            return Reply(None), McpStep(self, approval.turn, approval=approval)
        return None

    def step_for(self, reply: Reply, tool_choice: object) -> McpStep | None:
        """The MCP call a reply's turn makes, if it has one."""
        if reply.turn is None or reply.turn.mcp is None:
            return None
        return McpStep(self, reply.turn, usable=tool_choice != "none")

    async def listed_server(self, label: str) -> _Server | None:
        """The server `label` once its listing ended, if the session has it."""
        server = self._servers.get(label)
        if server is None:
            return None
        await server.listed.wait()
        return server

    async def _list(self, label: str, server: _Server) -> None:
        conn = self.conn
        item = Item(
            id=wire.new_id("mcpl"), type="mcp_list_tools", mcp={"server_label": label, "tools": []}
        )
        previous = conn.conversation.add(item)
        try:
            await conn.send(_item_event("conversation.item.added", item, previous))
            await conn.send({"type": "mcp_list_tools.in_progress", "item_id": item.id})
            from edge_voice.sim import mcp_client  # the SDK's 0.5 s only when a session uses MCP

            try:
                tools = await mcp_client.list_tools(server.entry)
            except mcp_client.McpServerError as exc:
                log.info("MCP server %s: listing failed: %s", label, exc)
                await conn.send({"type": "mcp_list_tools.failed", "item_id": item.id})
                return
            server.tools = [t for t in tools if allowed(server.entry, t["name"])]
            item.mcp["tools"] = server.tools
            await conn.send(_item_event("conversation.item.done", item, previous))
            await conn.send({"type": "mcp_list_tools.completed", "item_id": item.id})
        finally:
            server.listed.set()

    def approval_asked(self, request_id: str, approval: _Approval) -> None:
        """A response asked for an approval."""
        approval.request_id = request_id
        self._approvals[request_id] = approval

    def call_ended(self, turn: Turn, output: str | None, error: str | None) -> None:
        """A call finished: the next response speaks its outcome."""
        self._outcome = _Outcome(turn, output, error)


@dataclass
class McpStep:
    """The MCP part of one response: an approval request, or the call itself."""

    session: McpSession
    turn: Turn
    usable: bool = True
    approval: _Approval | None = None

    async def run(self, response: ActiveResponse) -> None:
        """Stream this step's items inside `response`."""
        if self.approval is not None:
            await self._after_answer(response, self.approval)
            return
        use = self.turn.mcp
        assert use is not None
        server = await self.session.listed_server(use.server_label)
        tools = (server.tools or []) if server is not None else []
        if not self.usable or server is None or not any(t["name"] == use.name for t in tools):
            text = self.turn.otherwise or (None if self.turn.say else "I can't do that from here.")
            if text:
                await response._message(text)
            return
        arguments = json.dumps(use.arguments, separators=(",", ":"))
        if needs_approval(server.entry, use.name):
            await self._ask_approval(response, _Approval(self.turn, server.entry, arguments))
            return
        await self._call(response, _Approval(self.turn, server.entry, arguments))

    async def _ask_approval(self, response: ActiveResponse, approval: _Approval) -> None:
        use = self.turn.mcp
        assert use is not None
        item = Item(
            id=wire.new_id("mcpr"),
            type="mcp_approval_request",
            mcp={
                "server_label": use.server_label,
                "name": use.name,
                "arguments": approval.arguments,
            },
        )
        index, previous = await response._open_item(item)
        await response._close_item(item, index, previous)
        self.session.approval_asked(item.id, approval)

    async def _after_answer(self, response: ActiveResponse, approval: _Approval) -> None:
        if approval.approve:
            await self._call(response, approval)
            return
        message = "The tool call was not approved" + (
            f": {approval.reason}" if approval.reason else "."
        )
        item, index, previous = await self._open_call(response, approval)
        item.mcp["error"] = {"type": "tool_execution_error", "message": message}
        await response._send("response.mcp_call.failed", item_id=item.id, output_index=index)
        await response._close_item(item, index, previous)
        await response._message(fill(self.turn.on_error or DEFAULT_ON_ERROR, error=message))

    async def _open_call(
        self, response: ActiveResponse, approval: _Approval
    ) -> tuple[Item, int, str | None]:
        use = self.turn.mcp
        assert use is not None
        item = Item(
            id=wire.new_id("mcp"),
            type="mcp_call",
            mcp={
                "server_label": use.server_label,
                "name": use.name,
                "arguments": "",
                "approval_request_id": approval.request_id,
                "output": None,
                "error": None,
            },
        )
        index, previous = await response._open_item(item)
        ids = {"response_id": response.id, "item_id": item.id, "output_index": index}
        await response._send("response.mcp_call_arguments.delta", **ids, delta=approval.arguments)
        item.mcp["arguments"] = approval.arguments
        await response._send(
            "response.mcp_call_arguments.done", **ids, arguments=approval.arguments
        )
        response._out.text += text_tokens(approval.arguments) + text_tokens(use.name)
        return item, index, previous

    async def _call(self, response: ActiveResponse, approval: _Approval) -> None:
        item, index, previous = await self._open_call(response, approval)
        await response._send("response.mcp_call.in_progress", item_id=item.id, output_index=index)
        rendered = wire.render_item(item, "ga")
        await response._send(
            "response.output_item.done", response_id=response.id, output_index=index, item=rendered
        )
        self.session.spawn(self._finish(response, item, index, previous, approval))

    async def _finish(
        self,
        response: ActiveResponse,
        item: Item,
        index: int,
        previous: str | None,
        approval: _Approval,
    ) -> None:
        """Run the tool on the real server; report once the response is over (it does not wait)."""
        conn = self.session.conn
        name = str(item.mcp["name"])
        output: str | None = None
        error: dict[str, Any] | None = None
        from edge_voice.sim import mcp_client  # loaded by _list already

        try:
            output = await mcp_client.call_tool(approval.entry, name, approval.arguments)
        except mcp_client.McpServerError as exc:
            error = exc.error
        item.mcp.update(output=output, error=error)
        await response.ended.wait()
        self.session.call_ended(
            self.turn, output, None if error is None else str(error.get("message", ""))
        )
        kind = "failed" if error else "completed"
        await conn.send(
            {"type": f"response.mcp_call.{kind}", "item_id": item.id, "output_index": index}
        )
        await conn.send(_item_event("conversation.item.done", item, previous))


def _item_event(kind: str, item: Item, previous: str | None) -> dict[str, Any]:
    return {"type": kind, "previous_item_id": previous, "item": wire.render_item(item, "ga")}
