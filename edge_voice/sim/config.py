"""Settings and fault switches of the simulator; tests may change them while it runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

DropMode = Literal["error", "abort"]


def calendar_today() -> dt.date:
    """The real date: what the simulator's calendar says when `SimConfig.today` is None."""
    return dt.date.today()


@dataclass
class SimConfig:
    """Everything the simulator does differently from a healthy, fast, permissive service.

    Fields are read when they are needed (at connect, per response, per delta), so a test may
    change them on a running simulator, e.g. ``sim.config.refuse_models.add("gpt-realtime")``.
    """

    host: str = "127.0.0.1"
    #: 0 picks a free port; ``RealtimeSimulator.port`` tells which.
    port: int = 0
    #: None accepts any non-empty bearer key; a set accepts only its members.
    api_keys: set[str] | None = None
    #: Refuse the beta shape whatever the date (the calendar refuses it after its shutdown).
    beta_disabled: bool = False
    #: The simulator's calendar: models past their catalog shutdown and the beta header past
    #: the beta interface's shutdown are refused as the real service refuses them.
    #: None follows the real date (read at each connect).
    today: dt.date | None = None
    #: In-band `invalid_model` then close 4000, as for a model the endpoint does not serve.
    refuse_models: set[str] = field(default_factory=set)
    #: In-band `model_not_found` then close 4000 (no access to the model).
    not_found_models: set[str] = field(default_factory=set)
    #: HTTP 403 at the upgrade, as accounts without Realtime access used to get.
    forbid_models: set[str] = field(default_factory=set)
    #: Accept the upgrade, then never answer (no session.created): a hung upstream, which the
    #: client must treat as a connect timeout.
    stall_models: set[str] = field(default_factory=set)
    #: After this long the session gets `session_expired` and a close 1001 (real: 60 min).
    session_max_s: float = 3600.0
    #: Drop the socket after this many audio deltas of a response (None: never).
    drop_after_audio_deltas: int | None = None
    #: "error": close frame 1011; "abort": TCP reset without a close frame (client sees 1006).
    drop_mode: DropMode = "error"
    #: How many responses the drop applies to, counted down as they drop (None: every one),
    #: so a soak can drop one answer and let the next connection answer.
    drop_responses: int | None = None
    #: The next N responses are refused with a `rate_limit_exceeded` error event.
    rate_limit_responses: int = 0
    #: The wait the refusal's message asks for ("Please try again in 1.8s.").
    rate_limit_retry_after_s: float = 1.8
    #: Before each response, send the malformed events of `sim.malformed` (a broken upstream).
    malformed_events: bool = False
    #: Extra wait between `response.created` and the first audio (or text) delta.
    first_audio_delay_ms: int = 0
    #: How many responses the first-audio delay applies to, counted down (None: every one).
    slow_responses: int | None = None
    #: Wall-clock seconds per second of audio streamed: 1.0 real time, 0 as fast as possible.
    pacing: float = 1.0
    audio_chunk_ms: int = 100
    #: Synthesized speech length per character of the reply text, and its bounds.
    ms_per_char: float = 70.0
    min_audio_ms: int = 300
    max_audio_ms: int = 20_000
    #: Energy threshold at the API's default `threshold` 0.5 (each 0.1 moves it 4 dB).
    vad_threshold_dbfs: float = -40.0
    vad_frame_ms: int = 20
    vad_min_speech_ms: int = 60
    #: The sim's default `silence_duration_ms`; captures of the real service show 200, which
    #: cuts real speech at word gaps, so the sim starts from the documented 500.
    default_silence_duration_ms: int = 500
    #: Token budget reported in `rate_limits.updated`.
    rate_limit_tokens: int = 40_000

    def date(self) -> dt.date:
        """The day the simulator lives in: `today`, or the real date."""
        return self.today or calendar_today()
