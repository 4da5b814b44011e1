"""Tools the model may call, and the calls in flight: published, answered over MQTT or timed out."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from edge_voice.config.schema import ToolConfig
from edge_voice.conversation.error_codes import ConversationErrorCode
from edge_voice.conversation.images import ResultImage, check_image, note_on_output
from edge_voice.events import AnsweredBy, CallMode, ErrorOccurred, EventBus, FunctionCallRequested
from edge_voice.mcp.naming import ToolResult
from edge_voice.mqtt.commands import CommandError, ErrorCode, FunctionCallImage
from edge_voice.realtime.errors import redact

log = logging.getLogger(__name__)

END_CONVERSATION = "end_conversation"
GET_TIME = "get_time"
#: How much of a call's arguments and output the INFO log shows.
LOG_CHARS = 200
#: How many withdrawn MCP tool names are remembered (to say why a call of one was refused).
MAX_WITHDRAWN = 256


@dataclass(frozen=True)
class Tool:
    """A function the model may call, and where it comes from."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    source: str  # builtin | config | mqtt | mcp

    def as_session_tool(self) -> dict[str, Any]:
        """The flat realtime function-tool shape."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": dict(self.parameters),
        }


_NO_PARAMS: Mapping[str, Any] = {"type": "object", "properties": {}}
BUILTIN_TOOLS: tuple[Tool, ...] = (
    Tool(GET_TIME, "The current local date and time of the home.", _NO_PARAMS, "builtin"),
    Tool(
        END_CONVERSATION,
        "End the conversation when the user says goodbye or has nothing more to ask.",
        _NO_PARAMS,
        "builtin",
    ),
)


class ToolRegistry:
    """Built-in tools, config tools and tools declared on MQTT; later sources override earlier."""

    def __init__(self, config_tools: list[ToolConfig]) -> None:
        self._config = {
            t.name: Tool(t.name, t.description, t.parameters, "config") for t in config_tools
        }
        self._declared: dict[str, Tool] = {}
        self._local: dict[str, Tool] = {}
        #: MCP tools offered once and withdrawn since (their server went away), bounded.
        self._withdrawn: dict[str, None] = {}

    def set_local(self, tools: Mapping[str, tuple[str, Mapping[str, Any]]]) -> bool:
        """Replace the tools answered here by an MCP server: name → (description, parameters);
        whether that changed them."""
        old, self._local = self._local, {n: Tool(n, d, p, "mcp") for n, (d, p) in tools.items()}
        for name in old.keys() - self._local.keys():
            self._withdrawn[name] = None
        for name in self._local.keys() & self._withdrawn.keys():
            del self._withdrawn[name]
        while len(self._withdrawn) > MAX_WITHDRAWN:
            del self._withdrawn[next(iter(self._withdrawn))]
        return old != self._local

    def withdrawn(self, name: str) -> bool:
        """Whether `name` was an MCP tool whose server no longer offers it (is away)."""
        return name in self._withdrawn and name not in self.tools()

    def set_config_tools(self, config_tools: list[ToolConfig]) -> None:
        """Replace the tools that come from the config."""
        self._config = {
            t.name: Tool(t.name, t.description, t.parameters, "config") for t in config_tools
        }

    def set_declared(self, declared: Mapping[str, tuple[str, Mapping[str, Any]]]) -> bool:
        """Replace the MQTT-declared tools: name → (description, parameters); whether that
        changed them."""
        old = self._declared
        self._declared = {n: Tool(n, d, p, "mqtt") for n, (d, p) in declared.items()}
        return old != self._declared

    def tools(self) -> dict[str, Tool]:
        """Every callable tool by name."""
        # MCP names are prefixed (mcp_<server>_…); should one still clash, config and MQTT win.
        builtin = {t.name: t for t in BUILTIN_TOOLS}
        return {**builtin, **self._local, **self._config, **self._declared}

    def session_tools(self) -> tuple[dict[str, Any], ...]:
        """The tools to declare in session.update."""
        return tuple(t.as_session_tool() for t in self.tools().values())


@dataclass
class PendingCall:
    """A call waiting for its result."""

    call_id: str
    name: str
    deadline: float
    future: asyncio.Future[str] = field(repr=False)


class LocalTools(Protocol):
    """Runs the tools answered here (the MCP bridge): output or error, and any image."""

    async def run_tool(self, name: str, arguments: str) -> ToolResult:
        """Run one call."""
        ...


def error_output(message: str) -> str:
    """A function output that tells the model the call failed, so it can tell the user."""
    return json.dumps({"error": message})


def clip(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` for the log: secrets and key-shaped strings masked, at most LOG_CHARS long."""
    text = redact(text, secrets)
    return text if len(text) <= LOG_CHARS else f"{text[:LOG_CHARS]}… ({len(text)} chars)"


class FunctionCallBroker:
    """Answers built-in tools, publishes the rest and waits for the first valid result."""

    def __init__(
        self,
        registry: ToolRegistry,
        bus: EventBus,
        *,
        deadline_ms: int = 8000,
        max_image_bytes: int = 524288,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone(),
        local: LocalTools | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.registry = registry
        self._secrets = tuple(s for s in secrets if s)
        self.local = local
        self._bus = bus
        self.deadline_ms = deadline_ms
        self.max_image_bytes = max_image_bytes
        self._images: dict[str, ResultImage] = {}
        self._now = now
        self._pending: dict[str, PendingCall] = {}
        self.end_requested = False

    @property
    def pending(self) -> list[str]:
        """call_ids waiting for a result."""
        return list(self._pending)

    async def call(
        self,
        call_id: str,
        name: str,
        arguments: str,
        model: str,
        *,
        mode: CallMode = "wait",
        offered: Collection[str] | None = None,
    ) -> str:
        """The output for one call: built-in, from MQTT before the deadline, or an error.

        `offered`: the tool names the session declared (None: every tool); any other is
        refused, whatever is declared now.
        """
        log.info(
            "function call %s on %s (%s): %s(%s)",
            call_id,
            model,
            mode,
            name,
            clip(arguments, self._secrets),
        )
        output = await self._answer(call_id, name, arguments, model, mode, offered)
        log.info("function call %s (%s) result: %s", call_id, name, clip(output, self._secrets))
        return output

    async def _answer(
        self,
        call_id: str,
        name: str,
        arguments: str,
        model: str,
        mode: CallMode,
        offered: Collection[str] | None,
    ) -> str:
        tool = self.registry.tools().get(name)
        if tool is None or (offered is not None and name not in offered):
            # Only a tool both declared now and offered to this session ever runs, whatever
            # the model asks for: not one a wake word's profile left out, nor one declared
            # after the session began (the model was never told of it).
            known = "not offered in this conversation" if tool is not None else "not declared"
            if self.registry.withdrawn(name):
                known = "an MCP tool its server no longer offers (the server is away)"
            return self._undeclared(call_id, name, model, where=known)
        if tool.source == "builtin":
            return self._builtin(name)
        if tool.source == "mcp":
            return await self._local_call(call_id, name, arguments, model, mode)
        loop = asyncio.get_running_loop()
        pending = PendingCall(
            call_id, name, loop.time() + self.deadline_ms / 1000, loop.create_future()
        )
        self._pending[call_id] = pending
        self._announce(call_id, name, arguments, model, answered_by="mqtt", mode=mode)
        try:
            async with asyncio.timeout(self.deadline_ms / 1000):
                return await pending.future
        except TimeoutError:
            return self._timed_out(call_id, name, model, "no flow answered on function_call/result")
        finally:
            self._pending.pop(call_id, None)

    def _announce(
        self,
        call_id: str,
        name: str,
        arguments: str,
        model: str,
        *,
        answered_by: AnsweredBy,
        mode: CallMode,
    ) -> None:
        self._bus.publish(
            FunctionCallRequested(
                call_id=call_id,
                name=name,
                arguments=arguments,
                model=model,
                deadline_ms=self.deadline_ms,
                answered_by=answered_by,
                mode=mode,
            )
        )

    async def _local_call(
        self, call_id: str, name: str, arguments: str, model: str, mode: CallMode
    ) -> str:
        """Run an MCP tool here under the deadline; published so MQTT sees every call."""
        self._announce(call_id, name, arguments, model, answered_by="mcp", mode=mode)
        if self.local is None:
            return error_output(f"{name} has no MCP bridge to run it")
        try:
            async with asyncio.timeout(self.deadline_ms / 1000):
                result = await self.local.run_tool(name, arguments)
        except TimeoutError:
            return self._timed_out(call_id, name, model, "the MCP server did not answer")
        if result.error is not None:
            return error_output(result.error)
        output = result.output or ""
        if result.image is not None:
            try:
                self._images[call_id] = check_image(*result.image, self.max_image_bytes)
            except ValueError as exc:
                log.warning("MCP call %s (%s): image refused: %s", call_id, name, exc)
                return note_on_output(output, f"the tool's image was refused: {exc}")
        return output

    def _undeclared(self, call_id: str, name: str, model: str, *, where: str) -> str:
        """Refuse a call of a tool the session does not offer: logged, on MQTT, an error output."""
        message = f"function call {call_id} on {model}: the model called {name!r}, {where}; not run"
        log.warning("%s", clip(message, self._secrets))
        self._bus.publish(
            ErrorOccurred(
                code=ConversationErrorCode.UNDECLARED_TOOL,
                message=message,
                call_id=call_id,
                name=name,
                model=model,
            )
        )
        return error_output(f"unknown tool {name!r}: it is not one of the tools offered to you")

    def _timed_out(self, call_id: str, name: str, model: str, why: str) -> str:
        """Tell the log and MQTT that a call missed its deadline; the output for the model."""
        message = (
            f"function call {call_id} ({name}) on {model}: no result within "
            f"{self.deadline_ms} ms ({why})"
        )
        log.warning("%s", message)
        self._bus.publish(
            ErrorOccurred(
                code=ConversationErrorCode.FUNCTION_CALL_TIMEOUT,
                message=message,
                call_id=call_id,
                name=name,
                model=model,
            )
        )
        return error_output(f"no answer from {name} within {self.deadline_ms} ms")

    def result(
        self,
        call_id: str,
        output: str | None,
        error: str | None,
        image: FunctionCallImage | None = None,
    ) -> None:
        """Deliver a result from MQTT; CommandError if nobody is waiting for `call_id` or its
        image is unusable (then the model gets an error result)."""
        pending = self._pending.get(call_id)
        if pending is None or pending.future.done():
            raise CommandError(
                ErrorCode.UNKNOWN_CALL,
                f"no pending function call {call_id!r} (unknown, already answered or expired)",
            )
        if image is not None:
            try:
                checked = check_image(image.mime, image.data_base64, self.max_image_bytes)
            except ValueError as exc:
                log.warning("function call %s (%s): image refused: %s", call_id, pending.name, exc)
                pending.future.set_result(error_output(f"the result's image was refused: {exc}"))
                raise CommandError(
                    ErrorCode.INVALID_VALUE,
                    f"function_call/result for {call_id} ({pending.name}): {exc}; "
                    "the model was told the image was refused",
                ) from None
            self._images[call_id] = checked
        pending.future.set_result(error_output(error) if error is not None else output or "")

    def take_image(self, call_id: str) -> ResultImage | None:
        """The image the result of `call_id` carried (once)."""
        return self._images.pop(call_id, None)

    def cancel_all(self) -> None:
        """Forget every pending call (the conversation ended)."""
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_result(error_output("the conversation ended"))
        self._pending.clear()
        self._images.clear()

    def _builtin(self, name: str) -> str:
        if name == GET_TIME:
            now = self._now()
            return json.dumps(
                {"local_time": now.isoformat(timespec="minutes"), "weekday": now.strftime("%A")}
            )
        self.end_requested = True
        return json.dumps({"ok": True})
