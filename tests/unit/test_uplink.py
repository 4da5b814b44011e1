"""The uplink's bounded queue: holds until the session is ready, drops and reports on a stall."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from edge_voice.audio.pcm import FRAME_BYTES
from edge_voice.conversation.uplink import AUDIO_DROPPED, Uplink
from tests.support.audio_link import RecordingLink

pytestmark = pytest.mark.timeout(10)
FRAME = bytes(FRAME_BYTES)


class Rig:
    def __init__(self, queue_frames: int) -> None:
        self.link = RecordingLink()
        self.reports: list[tuple[str, str]] = []
        self.uplink = Uplink(
            lambda: self.link, lambda *r: self.reports.append(r), queue_frames=queue_frames
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig(queue_frames=4)
    task = asyncio.create_task(rig.uplink.run())
    yield rig
    rig.uplink.close()
    await asyncio.wait_for(task, 5)


async def test_frames_are_held_until_the_session_is_ready_then_sent(rig: Rig) -> None:
    for _ in range(3):
        rig.uplink.put(FRAME)
    await asyncio.sleep(0)  # the uplink task gets its turn: it must not send yet
    assert rig.link.received == []
    rig.uplink.open()
    await rig.link.until_received(3)
    rig.uplink.put(FRAME)
    await rig.link.until_received(4)
    assert rig.uplink.dropped == 0 and rig.reports == []


async def test_frames_of_an_ended_turn_are_never_sent(rig: Rig) -> None:
    for _ in range(3):
        rig.uplink.put(FRAME)
    rig.uplink.reset()  # e.g. the session could not be opened: back to idle
    rig.uplink.put(FRAME)
    rig.uplink.open()
    await rig.link.until_received(1)
    rig.uplink.put(FRAME)
    await rig.link.until_received(2)
    assert len(rig.link.received) == 2


async def test_a_stall_drops_the_oldest_frames_counts_them_and_reports_once(rig: Rig) -> None:
    rig.link.flowing.clear()  # the session stops taking audio
    rig.uplink.open()
    rig.uplink.put(FRAME)
    await asyncio.wait_for(rig.link.blocked.wait(), 5)  # the uplink is stuck sending it
    for _ in range(10):
        rig.uplink.put(FRAME)  # never waits: the source loop goes on
    assert rig.uplink.dropped == 6  # 4 queued behind the blocked one, the oldest went
    assert [code for code, _ in rig.reports] == [AUDIO_DROPPED]  # one episode, one report
    rig.link.flowing.set()
    await rig.link.until_received(5)  # the blocked frame and the 4 newest

    rig.link.flowing.clear()  # a second stall is a second episode
    rig.link.blocked.clear()
    rig.uplink.put(FRAME)
    await asyncio.wait_for(rig.link.blocked.wait(), 5)
    for _ in range(5):
        rig.uplink.put(FRAME)
    assert rig.uplink.dropped == 7
    assert [code for code, _ in rig.reports] == [AUDIO_DROPPED, AUDIO_DROPPED]
    rig.link.flowing.set()


async def test_after_close_nothing_is_queued_and_run_ends() -> None:
    rig = Rig(queue_frames=4)
    rig.uplink.close()
    rig.uplink.put(FRAME)
    await asyncio.wait_for(rig.uplink.run(), 1)
    assert rig.link.received == []
