"""Running cases: each one in a fresh `RealtimeSession`, the client the service itself uses.

A case opens a session on the model (the suite's instructions and tools), sends its input as a
text item or as audio the server VAD turns into a user turn, answers every function call with
the case's `call_output` and asks for the follow-up response (at most `MAX_ROUNDS` rounds), and
collects what the model said and called, token usage, cost and latencies:

- `session_ready`: connect() until session.updated (the session is usable);
- `first_delta`: the end of the user's turn (response.create for text, the VAD's speech_stopped
  for audio) until the first audio or text delta;
- `response_done`: the same start until the last response.done of the interaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

from pydantic import SecretStr

from edge_voice.evaluation.scoring import CaseScore, Observed, ObservedCall, score
from edge_voice.evaluation.suite import Case, Suite
from edge_voice.metrics.cost import TokenUsage, calculate_cost
from edge_voice.models.catalog import ModelCatalog, ModelInfo
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import RealtimeError
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SAMPLE_RATE, SessionSettings

#: Function-call rounds per case (a model that keeps calling is cut off there).
MAX_ROUNDS: Final = 3
_CHUNK_BYTES: Final = 2 * SAMPLE_RATE // 10  # 100 ms, the microphone's pace in the service

BackendKind = Literal["openai", "simulator"]


@dataclass(frozen=True)
class Endpoint:
    """Where the sessions go, and with which key."""

    kind: BackendKind
    base_url: str
    api_key: SecretStr


class Backend(Protocol):
    """The real service or the simulator; told about each case before its session opens."""

    @property
    def endpoint(self) -> Endpoint:
        """Where the sessions go."""

    def before_case(self, case: Case, model: str, repeat: int) -> None:
        """Prepare for `case` on `model` (the simulator sets its answer)."""


@dataclass
class CaseRun:
    """One case on one model, one repetition: what happened and what it scored."""

    case_id: str
    category: str
    model: str
    repeat: int
    input: Literal["text", "audio"]
    connected: bool = False
    error: str | None = None
    #: The connection failed in a way the service answers by trying its fallback model.
    fallback: bool = False
    observed: Observed = field(default_factory=Observed)
    score: CaseScore | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    responses: int = 0

    @property
    def passed(self) -> bool:
        """Connected, finished and every check passed."""
        return self.score is not None and self.score.passed and self.error is None


@dataclass
class _Exchange:
    """The running state of one interaction."""

    audio: bool
    sent_at: float
    start: float | None = None
    first_delta: float | None = None
    calls: list[ObservedCall] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    responses: int = 0
    rounds: int = 0
    error: str | None = None


async def _send_input(session: RealtimeSession, case: Case, audio: bytes) -> None:
    if case.input.text is not None:
        await session.create_text_item(case.input.text)
        await session.create_response()
        return
    for offset in range(0, len(audio), _CHUNK_BYTES):
        await session.append_audio(audio[offset : offset + _CHUNK_BYTES])


async def _on_response_done(
    session: RealtimeSession, case: Case, x: _Exchange, event: ev.ResponseDone
) -> bool:
    """Count the response; answer its calls and ask for more. True when the interaction ended."""
    x.responses += 1
    if event.usage:
        x.usage = x.usage + TokenUsage.from_usage(event.usage)
    if event.status not in ("completed", "incomplete"):
        x.error = f"response {event.status}: {dict(event.status_details or {})}"
        return True
    if not x.pending or x.rounds >= MAX_ROUNDS:
        return True
    for call_id in x.pending:
        await session.create_function_call_output(call_id, case.call_output)
    x.pending.clear()
    x.rounds += 1
    await session.create_response()
    return False


async def _interact(session: RealtimeSession, case: Case, audio: bytes, x: _Exchange) -> None:
    """Send the input, then follow the responses until the interaction ends (fills `x`)."""
    await _send_input(session, case, audio)
    if not audio:
        x.start = x.sent_at
    async for event in session.events():
        now = time.monotonic()
        if isinstance(event, ev.SpeechStopped) and x.start is None:
            x.start = now
        elif isinstance(event, ev.AudioDelta | ev.TextDelta | ev.TranscriptDelta):
            x.first_delta = now if x.first_delta is None else x.first_delta
        elif isinstance(event, ev.TranscriptDone | ev.TextDone):
            x.texts.append(event.text)
        elif isinstance(event, ev.FunctionCallRequest):
            x.calls.append(ObservedCall(event.name, event.arguments))
            x.pending.append(event.call_id)
        elif isinstance(event, ev.ServerError):
            x.error = f"server error {event.code or event.type}: {event.message}"
            return
        elif isinstance(event, ev.ResponseDone) and await _on_response_done(
            session, case, x, event
        ):
            return


def _latencies(x: _Exchange, done: float) -> dict[str, float]:
    start = x.start if x.start is not None else x.sent_at
    out = {"response_done": (done - start) * 1000}
    if x.first_delta is not None:
        out["first_delta"] = max(0.0, x.first_delta - start) * 1000
    return out


async def run_case(
    case: Case,
    suite: Suite,
    model: ModelInfo,
    endpoint: Endpoint,
    *,
    catalog: ModelCatalog,
    audio: bytes = b"",
    repeat: int = 0,
    timeout_s: float = 60.0,
) -> CaseRun:
    """Run `case` once on `model`; never raises for what the session or the model does."""
    run = CaseRun(case.id, case.category, model.name, repeat, case.input.kind)
    settings = SessionSettings(
        model=model.name, instructions=suite.instructions, tools=suite.session_tools()
    )
    session = RealtimeSession(settings, model, api_key=endpoint.api_key, base_url=endpoint.base_url)
    try:
        await session.connect()
    except RealtimeError as exc:
        run.error = f"connect: {type(exc).__name__}: {exc}"
        run.fallback = exc.fallback_worthy
        return run
    run.connected = True
    assert session.session_ready_time_s is not None
    run.latency_ms["session_ready"] = session.session_ready_time_s * 1000
    x = _Exchange(audio=bool(audio), sent_at=time.monotonic())
    try:
        async with asyncio.timeout(timeout_s):
            await _interact(session, case, audio, x)
    except TimeoutError:
        x.error = f"no answer within {timeout_s:g} s"
    except RealtimeError as exc:
        x.error = f"session: {type(exc).__name__}: {exc}"
    finally:
        await session.close()
    run.latency_ms |= _latencies(x, time.monotonic())
    run.error, run.usage, run.responses = x.error, x.usage, x.responses
    run.observed = Observed(tuple(x.calls), " ".join(t.strip() for t in x.texts if t.strip()))
    run.score = score(case, run.observed, suite)
    run.cost_usd = calculate_cost(run.usage, model.name, catalog)
    return run


async def run_suite(
    suite: Suite,
    models: Sequence[ModelInfo],
    backend: Backend,
    *,
    catalog: ModelCatalog,
    audio: Mapping[str, bytes],
    repeat: int = 1,
    timeout_s: float = 60.0,
    progress: Callable[[CaseRun], None] | None = None,
) -> list[CaseRun]:
    """Every case on every model, `repeat` times; models alternate case by case."""
    runs: list[CaseRun] = []
    for rep in range(repeat):
        for case in suite.cases:
            for model in models:
                backend.before_case(case, model.name, rep)
                run = await run_case(
                    case,
                    suite,
                    model,
                    backend.endpoint,
                    catalog=catalog,
                    audio=audio.get(case.id, b""),
                    repeat=rep,
                    timeout_s=timeout_s,
                )
                runs.append(run)
                if progress is not None:
                    progress(run)
    return runs
