"""A real RealtimeSession whose uplink blocks once, like a websocket whose peer stops reading."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from edge_voice.models.catalog import ModelInfo
from edge_voice.models.migration import SessionOpener
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings


class Stall:
    """When and for how long the uplink blocks: on the `after`-th audio append, for `seconds`."""

    def __init__(self, *, after: int, seconds: float) -> None:
        self.after = after
        self.seconds = seconds
        self.appends = 0
        self.started = asyncio.Event()
        self.ended = asyncio.Event()

    async def on_append(self) -> None:
        """Count an append; block the sender once, when its turn comes."""
        self.appends += 1
        if self.appends == self.after:
            self.started.set()
            await asyncio.sleep(self.seconds)  # the fault itself: a send that does not return
            self.ended.set()


class StallingSession(RealtimeSession):
    """Everything real (socket, wire, sim); only `append_audio` waits for the stall first."""

    stall: Stall

    async def append_audio(self, pcm: bytes) -> None:
        """Stream user audio, after the stall if this append is the one that blocks."""
        await self.stall.on_append()
        await super().append_audio(pcm)


def stalling_opener(
    stall: Stall, api_key: SecretStr | str, base_url: str
) -> SessionOpener[RealtimeSession]:
    """Like `realtime_opener`, with sessions whose uplink blocks as `stall` says."""

    async def open_session(model: ModelInfo, settings: SessionSettings) -> RealtimeSession:
        session = StallingSession(
            settings, model, api_key=api_key, base_url=base_url, connect_timeout_s=5
        )
        session.stall = stall
        try:
            await session.connect()
        except BaseException:
            await session.close()
            raise
        return session

    return open_session
