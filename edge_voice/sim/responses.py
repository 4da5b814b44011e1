"""Streaming one response: events in the real order, audio paced, cancellable, faultable."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from edge_voice.realtime.model_spec import WireProtocol
from edge_voice.sim import wire
from edge_voice.sim.audio_synth import chunks, speech_duration_ms, synthesize
from edge_voice.sim.config import SimConfig
from edge_voice.sim.conversation import (
    OUTPUT_AUDIO_TOKENS_PER_S,
    Item,
    Part,
    TokenCounts,
    audio_tokens,
    text_tokens,
)
from edge_voice.sim.scenario import Turn
from edge_voice.sim.speech import bundled_speech

log = logging.getLogger(__name__)


class ResponseDropped(Exception):
    """The drop fault closed the socket in the middle of the response."""


class ResponseHost(Protocol):
    """What a response needs from its connection."""

    protocol: WireProtocol
    config: SimConfig

    async def send(self, event: dict[str, Any]) -> None:
        """Send one server event."""

    def add_item(self, item: Item) -> str | None:
        """Append an item to the conversation; return its previous_item_id."""

    async def drop(self) -> None:
        """Break the connection as the drop fault says."""

    def response_finished(self, response: ActiveResponse) -> None:
        """The response is over (called once, before `response.done` goes out)."""


class ResponseStep(Protocol):
    """More work a response does after its message and call (native MCP: sim.mcp_session)."""

    async def run(self, response: ActiveResponse) -> None:
        """Stream the step's items inside `response`."""


@dataclass
class PlannedCall:
    """A function call the response will make."""

    name: str
    arguments: str


@dataclass
class ResponsePlan:
    """What a response says and does, and with which settings."""

    say: str | None
    call: PlannedCall | None
    voice: str
    speed: float = 1.0
    audio_out: bool = True
    in_conversation: bool = True
    metadata: dict[str, Any] | None = None
    max_output_tokens: int | str = "inf"
    #: Calls after `call` in the same response (parallel function calls).
    more_calls: list[PlannedCall] = field(default_factory=list)
    #: The scenario turn whose call this response makes, if any.
    turn: Turn | None = None
    mcp: ResponseStep | None = None
    #: Input tokens (whole conversation so far) and the cached part of them.
    input_tokens: TokenCounts = field(default_factory=TokenCounts)
    cached_tokens: TokenCounts = field(default_factory=TokenCounts)


class ActiveResponse:
    """One response in flight; `cancel()` ends it early with status `cancelled`."""

    def __init__(self, plan: ResponsePlan, host: ResponseHost) -> None:
        self.plan = plan
        self.host = host
        self.view = wire.ResponseView(
            id=wire.new_id("resp"),
            audio_out=plan.audio_out,
            voice=plan.voice,
            in_conversation=plan.in_conversation,
            metadata=plan.metadata,
            max_output_tokens=plan.max_output_tokens,
        )
        self.audio_ms = 0
        #: The function calls the response completed, in order.
        self.call_items: list[Item] = []
        self._out = TokenCounts()
        self._cancelled = asyncio.Event()
        self._reason: str | None = None
        self._deltas = 0
        self.finished = False
        #: Set once the last event of the response (rate_limits.updated) went out.
        self.ended = asyncio.Event()

    @property
    def id(self) -> str:
        """The response id."""
        return self.view.id

    @property
    def cancelling(self) -> bool:
        """A cancel was requested; the stream is winding down."""
        return self._cancelled.is_set()

    def cancel(self, reason: str) -> None:
        """Ask the stream to stop at the next delta (`client_cancelled`, `turn_detected`)."""
        if not self._cancelled.is_set():
            self._reason = reason
            self._cancelled.set()

    async def run(self) -> None:
        """Stream the whole response, ending with `response.done` and `rate_limits.updated`."""
        protocol = self.host.protocol
        await self._send("response.created", response=wire.render_response(self.view, protocol))
        if self.plan.say and not self._cancelled.is_set():
            await self._message(self.plan.say)
        calls = [self.plan.call] if self.plan.call is not None else []
        for call in calls + self.plan.more_calls:
            if not self._cancelled.is_set():
                await self._function_call(call)
        if self.plan.mcp is not None and not self._cancelled.is_set():
            await self.plan.mcp.run(self)
        if self._cancelled.is_set():
            self.view.status = "cancelled"
            self.view.reason = self._reason
        else:
            self.view.status = "completed"
        self.view.usage = wire.Usage(self.plan.input_tokens, self.plan.cached_tokens, self._out)
        # Before response.done goes out: a client reacting to it must find the response over.
        self.host.response_finished(self)
        await self._send("response.done", response=wire.render_response(self.view, protocol))
        budget = self.host.config.rate_limit_tokens
        used = self.plan.input_tokens.total + self._out.total
        await self._send(
            "rate_limits.updated",
            rate_limits=[
                {
                    "name": "tokens",
                    "limit": budget,
                    "remaining": max(budget - used, 0),
                    "reset_seconds": round(60 * used / budget, 3),
                }
            ],
        )

    async def _send(self, type_: str, **fields: Any) -> None:
        await self.host.send({"type": type_, **fields})

    async def _wait(self, seconds: float) -> bool:
        """Sleep unless cancelled first; True when cancelled. Always yields to the reader."""
        if seconds <= 0:
            await asyncio.sleep(0)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cancelled.wait(), seconds)
        return self._cancelled.is_set()

    async def _open_item(self, item: Item) -> tuple[int, str | None]:
        index = len(self.view.output)
        self.view.output.append(item)
        rendered = wire.render_item(item, self.host.protocol)
        await self._send(
            "response.output_item.added", response_id=self.id, output_index=index, item=rendered
        )
        previous = None
        if self.plan.in_conversation:
            previous = self.host.add_item(item)
            added = (
                "conversation.item.added"
                if self.host.protocol == "ga"
                else ("conversation.item.created")
            )
            await self._send(added, previous_item_id=previous, item=rendered)
        return index, previous

    async def _close_item(self, item: Item, index: int, previous: str | None) -> None:
        item.status = "incomplete" if self._cancelled.is_set() else "completed"
        rendered = wire.render_item(item, self.host.protocol)
        await self._send(
            "response.output_item.done", response_id=self.id, output_index=index, item=rendered
        )
        if self.plan.in_conversation and self.host.protocol == "ga":
            await self._send("conversation.item.done", previous_item_id=previous, item=rendered)

    async def _message(self, text: str) -> None:
        cfg, protocol = self.host.config, self.host.protocol
        kind: Any = "audio" if self.plan.audio_out else "text"
        part = Part(kind=kind, text="")
        item = Item(id=wire.new_id("item"), type="message", role="assistant", status="in_progress")
        index, previous = await self._open_item(item)
        item.parts.append(part)
        ids = {"response_id": self.id, "item_id": item.id, "output_index": index}
        part_json = {"type": kind, "transcript": ""} if kind == "audio" else {"type": "text"}
        if kind == "text":
            part_json["text"] = ""
        await self._send("response.content_part.added", **ids, content_index=0, part=part_json)
        if not await self._wait(_first_audio_delay_s(cfg)):
            if kind == "audio":
                await self._stream_audio(text, part, ids)
            else:
                await self._stream_text(text, part, ids)
        said = part.text or ""
        self._out.text += text_tokens(said)
        self._out.audio += audio_tokens(part.audio_ms, OUTPUT_AUDIO_TOKENS_PER_S)
        if kind == "audio":
            await self._send(wire.name(protocol, "audio_done"), **ids, content_index=0)
            await self._send(
                wire.name(protocol, "transcript_done"), **ids, content_index=0, transcript=said
            )
            part_json = {"type": "audio", "transcript": said}
        else:
            await self._send(wire.name(protocol, "text_done"), **ids, content_index=0, text=said)
            part_json = {"type": "text", "text": said}
        await self._send("response.content_part.done", **ids, content_index=0, part=part_json)
        await self._close_item(item, index, previous)

    async def _stream_audio(self, text: str, part: Part, ids: dict[str, Any]) -> None:
        cfg, protocol = self.host.config, self.host.protocol
        length = speech_duration_ms(
            text,
            ms_per_char=cfg.ms_per_char,
            min_ms=cfg.min_audio_ms,
            max_ms=cfg.max_audio_ms,
            speed=self.plan.speed,
        )
        # The scenario's replies are bundled as real speech; any other text is the tone.
        pcm = bundled_speech(text, length)
        if pcm is None:
            pcm = synthesize(text, self.plan.voice, length)
        pieces = chunks(pcm, cfg.audio_chunk_ms)
        loop = asyncio.get_running_loop()
        start = loop.time()
        sent_chars = 0
        for i, pcm in enumerate(pieces):
            due = start + i * cfg.audio_chunk_ms / 1000 * cfg.pacing
            if await self._wait(due - loop.time()):
                return
            delta = base64.b64encode(pcm).decode("ascii")
            await self._send(
                wire.name(protocol, "audio_delta"), **ids, content_index=0, delta=delta
            )
            part.audio_ms += len(pcm) // 48
            self.audio_ms += len(pcm) // 48
            cut = word_cut(text, (i + 1) / len(pieces))
            if cut > sent_chars:
                piece, sent_chars = text[sent_chars:cut], cut
                part.text = text[:cut]
                await self._send(
                    wire.name(protocol, "transcript_delta"), **ids, content_index=0, delta=piece
                )
            self._deltas += 1
            limit = cfg.drop_after_audio_deltas
            if limit is not None and self._deltas >= limit and cfg.drop_responses != 0:
                if cfg.drop_responses is not None:
                    cfg.drop_responses -= 1
                log.info("fault: dropping the connection after %d audio deltas", self._deltas)
                await self.host.drop()
                raise ResponseDropped

    async def _stream_text(self, text: str, part: Part, ids: dict[str, Any]) -> None:
        protocol = self.host.protocol
        words = text.split(" ")
        for i, word in enumerate(words):
            if await self._wait(0):
                return
            delta = word if i == 0 else " " + word
            part.text = (part.text or "") + delta
            await self._send(wire.name(protocol, "text_delta"), **ids, content_index=0, delta=delta)

    async def _function_call(self, call: PlannedCall) -> None:
        item = Item(
            id=wire.new_id("item"),
            type="function_call",
            status="in_progress",
            call_id=wire.new_id("call"),
            name=call.name,
            arguments="",
        )
        index, previous = await self._open_item(item)
        ids = {"response_id": self.id, "item_id": item.id, "output_index": index}
        step = max(1, len(call.arguments) // 3)
        for start in range(0, len(call.arguments), step):
            if await self._wait(0):
                break
            delta = call.arguments[start : start + step]
            item.arguments = (item.arguments or "") + delta
            await self._send(
                "response.function_call_arguments.delta", **ids, call_id=item.call_id, delta=delta
            )
        # Sent even when cut off, as the reference says the real service does.
        await self._send(
            "response.function_call_arguments.done",
            **ids,
            call_id=item.call_id,
            name=item.name,
            arguments=item.arguments,
        )
        self._out.text += text_tokens(item.arguments) + text_tokens(item.name)
        await self._close_item(item, index, previous)
        if item.status == "completed":
            self.call_items.append(item)


def word_cut(text: str, fraction: float) -> int:
    """A cut position at or after `fraction` of `text`, moved to the next word boundary."""
    if fraction >= 1.0:
        return len(text)
    cut = int(len(text) * fraction)
    space = text.find(" ", cut)
    return len(text) if space < 0 else space


def arguments_json(arguments: dict[str, Any]) -> str:
    """Function call arguments as the compact JSON string the API sends."""
    return json.dumps(arguments, separators=(",", ":"))


def _first_audio_delay_s(cfg: SimConfig) -> float:
    """The first-audio delay of this part, counting down `slow_responses` if it is set."""
    if cfg.first_audio_delay_ms <= 0 or cfg.slow_responses == 0:
        return 0.0
    if cfg.slow_responses is not None:
        cfg.slow_responses -= 1
    return cfg.first_audio_delay_ms / 1000
