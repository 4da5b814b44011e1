"""What the assistant has said and what was actually heard, for barge-in truncation."""

from __future__ import annotations

from dataclasses import dataclass

#: 24 kHz mono PCM16: 48 bytes per millisecond.
BYTES_PER_MS_24K = 48


@dataclass
class Truncation:
    """Where to cut an assistant item: the server rejects 0 ms and anything past its audio."""

    item_id: str
    audio_end_ms: int


class PlaybackTracker:
    """Counts the audio received per assistant item so a barge-in can be truncated safely."""

    def __init__(self) -> None:
        self.item_id: str | None = None
        self.received_bytes = 0

    def audio(self, item_id: str, n_bytes: int) -> bool:
        """Record audio of `item_id`; True when it starts a new item."""
        new = item_id != self.item_id
        if new:
            self.item_id, self.received_bytes = item_id, 0
        self.received_bytes += n_bytes
        return new

    @property
    def received_ms(self) -> int:
        """Milliseconds of audio received for the current item."""
        return self.received_bytes // BYTES_PER_MS_24K

    def truncation(self, played_ms: int) -> Truncation | None:
        """The cut for what was played, clamped to [1, received]; None without audio."""
        if self.item_id is None or self.received_ms < 1:
            return None
        return Truncation(self.item_id, max(1, min(played_ms, self.received_ms)))

    def reset(self) -> None:
        """No item is playing."""
        self.item_id, self.received_bytes = None, 0
