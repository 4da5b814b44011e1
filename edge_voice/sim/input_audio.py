"""The input audio buffer: append/commit/clear, server VAD turns, and committing user items."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from edge_voice.sim import wire
from edge_voice.sim.conversation import Item, Part
from edge_voice.sim.errors import ClientError, invalid_type, missing_parameter
from edge_voice.sim.vad import EnergyVad, SpeechStarted, VadParams, threshold_to_dbfs

if TYPE_CHECKING:
    from edge_voice.sim.connection import RealtimeConnection

#: Bytes per millisecond per input format: PCM16 at 24 kHz, G.711 at 8 kHz.
_BYTES_PER_MS = {"audio/pcm": 48, "audio/pcmu": 8, "audio/pcma": 8}
MIN_COMMIT_MS = 100


class InputAudio:
    """One session's input buffer and its VAD."""

    def __init__(self, conn: RealtimeConnection) -> None:
        self.conn = conn
        self.total_ms = 0.0
        # Audio before this position was committed or cleared already.
        self.uncommitted_from_ms = 0.0
        self.vad = EnergyVad(self._params())
        self._speech_item: str | None = None
        self._speech_start_ms = 0

    def _params(self) -> VadParams:
        cfg = self.conn.config
        td = self.conn.session.turn_detection
        if td is None:
            return VadParams(threshold_dbfs=cfg.vad_threshold_dbfs, frame_ms=cfg.vad_frame_ms)
        return VadParams(
            threshold_dbfs=threshold_to_dbfs(td.threshold, cfg.vad_threshold_dbfs),
            frame_ms=cfg.vad_frame_ms,
            min_speech_ms=cfg.vad_min_speech_ms,
            silence_duration_ms=td.effective_silence_ms(),
            prefix_padding_ms=td.prefix_padding_ms,
        )

    def session_changed(self, vad_was_on: bool) -> None:
        """Pick up new turn detection settings without losing the stream position."""
        self.vad.params = self._params()
        if vad_was_on != (self.conn.session.turn_detection is not None):
            self.vad.reset()
            self._speech_item = None

    async def append(self, event: dict[str, Any]) -> None:
        """input_audio_buffer.append: decode, run the VAD, act on its events."""
        if "audio" not in event:
            raise missing_parameter("audio")
        if not isinstance(event["audio"], str):
            raise invalid_type("audio", "a string", event["audio"])
        try:
            pcm = base64.b64decode(event["audio"], validate=True)
        except (binascii.Error, ValueError):
            raise ClientError(
                "invalid_value", "Invalid 'audio'. Expected base64-encoded audio.", param="audio"
            ) from None
        fmt = self.conn.session.input_format
        self.total_ms += len(pcm) / _BYTES_PER_MS[fmt]
        if fmt != "audio/pcm":
            return  # G.711 is accepted and counted, but the energy VAD only reads PCM16
        events = self.vad.feed(pcm)
        td = self.conn.session.turn_detection
        if td is None:
            return
        for vad_event in events:
            if isinstance(vad_event, SpeechStarted):
                await self._speech_started(vad_event.audio_start_ms)
            else:
                await self._speech_stopped(vad_event.audio_end_ms)
                if td.create_response:
                    await self.conn.start_response(None, None)

    async def _speech_started(self, start_ms: int) -> None:
        start_ms = max(start_ms, int(self.uncommitted_from_ms))
        self._speech_item = wire.new_id("item")
        self._speech_start_ms = start_ms
        await self.conn.send(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": start_ms,
                "item_id": self._speech_item,
            }
        )
        td = self.conn.session.turn_detection
        active = self.conn.active
        if td is not None and td.interrupt_response and active is not None:
            active.cancel("turn_detected")
            # Real speech takes time to end, so the cancelled response.done comes first.
            await self.conn.settle_cancelled()

    async def _speech_stopped(self, end_ms: int) -> None:
        item_id = self._speech_item or wire.new_id("item")
        self._speech_item = None
        await self.conn.send(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": end_ms,
                "item_id": item_id,
            }
        )
        await self._commit(item_id, self._speech_start_ms, end_ms)

    async def commit(self, event: dict[str, Any]) -> None:
        """input_audio_buffer.commit: the whole uncommitted buffer becomes a user item."""
        length = self.total_ms - self.uncommitted_from_ms
        if length < MIN_COMMIT_MS:
            raise ClientError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {length:.2f}ms of audio.",
            )
        item_id = self._speech_item or wire.new_id("item")
        self._speech_item = None
        self.vad.reset()
        await self._commit(item_id, int(self.uncommitted_from_ms), int(self.total_ms))

    async def clear(self, event: dict[str, Any]) -> None:
        """input_audio_buffer.clear: drop uncommitted audio and any utterance in progress."""
        self.uncommitted_from_ms = self.total_ms
        self._speech_item = None
        self.vad.reset()
        await self.conn.send({"type": "input_audio_buffer.cleared"})

    async def _commit(self, item_id: str, start_ms: int, end_ms: int) -> None:
        conn = self.conn
        self.uncommitted_from_ms = max(self.uncommitted_from_ms, float(end_ms))
        turn = conn.dialogue.user_audio()
        part = Part(kind="input_audio", text=None, audio_ms=max(end_ms - start_ms, 0))
        item = Item(id=item_id, type="message", role="user", parts=[part])
        previous = conn.conversation.add(item)
        await conn.send(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        await conn.announce_item(item, previous)
        if conn.session.transcription is None:
            return
        part.text = turn.user
        done: dict[str, Any] = {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": item_id,
            "content_index": 0,
            "transcript": turn.user,
        }
        if conn.protocol == "ga":
            done["usage"] = {"type": "duration", "seconds": round(part.audio_ms / 1000, 3)}
        await conn.send(done)
