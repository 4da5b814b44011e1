"""Wake word arbitration: several devices heard the same word; the nearest one answers.

"Nearest" is the claim's peak score (0-1) plus its energy mapped from -60..0 dBFS onto 0-1,
with equal weight: the same word heard twice as loud (+6 dB) is worth 0.1 of score. A
detector's score saturates near 1 at any normal level, so on close scores the energy decides;
a loud noise with a poor score still loses to a clear word. A claim without energy (an older
device) is compared on score alone.

`Arbitration` is shared by the assistant, which asks (`claim`), and the MQTT bridge, which
carries the claims while it is connected (`carry`) and feeds in the group's (`observe`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Final

from edge_voice.mqtt.commands import ArbitrationClaim
from edge_voice.mqtt.payloads import arbitration_payload

log = logging.getLogger(__name__)

#: Claims kept for looking back; more devices than this in one group would be unusual.
_HISTORY: Final = 64


#: The energy span mapped onto 0-1 of nearness: -60 dBFS (barely heard) to 0 dBFS (full scale).
_ENERGY_SPAN_DB: Final = 60.0


def nearness(claim: ArbitrationClaim, *, with_energy: bool = True) -> float:
    """How near the claim's device is: peak score plus energy on the same 0-1 scale."""
    if not with_energy or claim.energy_dbfs is None:
        return claim.score
    energy = min(1.0, max(0.0, (claim.energy_dbfs + _ENERGY_SPAN_DB) / _ENERGY_SPAN_DB))
    return claim.score + energy


def beats(a: ArbitrationClaim, b: ArbitrationClaim) -> bool:
    """Whether claim `a` wins over `b`: nearer (see module doc); on a tie the lower device_id."""
    both = a.energy_dbfs is not None and b.energy_dbfs is not None
    near_a, near_b = nearness(a, with_energy=both), nearness(b, with_energy=both)
    return near_a > near_b or (near_a == near_b and a.device_id < b.device_id)


class Arbiter:
    """Collects the group's claims and decides whether our claim is the best in the window."""

    def __init__(self, device_id: str, window_s: float) -> None:
        self.device_id = device_id
        self.window_s = window_s
        self._claims: deque[tuple[float, ArbitrationClaim]] = deque(maxlen=_HISTORY)

    def observe(self, claim: ArbitrationClaim) -> None:
        """A claim from the arbitration topic; our own echo is ignored."""
        if claim.device_id == self.device_id:
            return
        self._claims.append((asyncio.get_running_loop().time(), claim))

    async def claim(
        self, ours: ArbitrationClaim, publish: Callable[[ArbitrationClaim], Awaitable[bool]]
    ) -> bool:
        """Publish `ours`, wait the window, and say whether it is the best claim."""
        started = asyncio.get_running_loop().time()
        sent = await publish(ours)
        if sent:
            await asyncio.sleep(self.window_s)  # the window is the protocol, not a sync hack
        # Not sent (not acknowledged within the window) but a nearer claim already arrived:
        # the group heard that device, so yielding is still right.
        winner = self._nearer(ours, started)
        if winner is None:
            if not sent:
                log.info("arbitration: claim not sent; answering without asking the group")
            return True
        rival, theirs, mine = winner.device_id, nearness(winner), nearness(ours)
        log.info("arbitration: %s is nearer (%.3f, ours %.3f); yielding", rival, theirs, mine)
        return False

    def _nearer(self, ours: ArbitrationClaim, started: float) -> ArbitrationClaim | None:
        """A claim received that beats ours, if any."""
        # A claim up to a window before ours counts too: another device may hear the wake
        # word a few milliseconds earlier and publish first.
        rivals = [c for t, c in self._claims if t >= started - self.window_s]
        return next((c for c in rivals if beats(c, ours)), None)


_Handover = tuple[ArbitrationClaim, "asyncio.Future[bool]"]


class Arbitration:
    """The wake word arbitration of one device: the assistant asks, the bridge carries."""

    def __init__(self, device_id: str, window_s: float) -> None:
        self.arbiter = Arbiter(device_id, window_s)
        self._outgoing: asyncio.Queue[_Handover] = asyncio.Queue()
        self._carried = asyncio.Event()

    @property
    def carried(self) -> bool:
        """Whether a carrier (the connected bridge) sends claims now."""
        return self._carried.is_set()

    async def wait_carried(self) -> None:
        """Return once a carrier sends claims."""
        await self._carried.wait()

    async def claim(self, score: float, energy_dbfs: float | None = None) -> bool:
        """We heard the wake word with peak `score` and `energy_dbfs`: True if we answer."""
        payload = arbitration_payload(self.arbiter.device_id, score, energy_dbfs=energy_dbfs)
        ours = ArbitrationClaim.model_validate(payload)
        return await self.arbiter.claim(ours, self._hand_over)

    def observe(self, claim: ArbitrationClaim) -> None:
        """A claim the bridge received on the group's topic."""
        self.arbiter.observe(claim)

    async def carry(self, send: Callable[[ArbitrationClaim], Awaitable[bool]]) -> None:
        """Send every claim with `send` until cancelled (the bridge, while it is connected)."""
        self._carried.set()
        try:
            while True:
                claim, sent = await self._outgoing.get()
                ok = False
                try:
                    ok = await send(claim)
                finally:
                    if not sent.done():
                        sent.set_result(ok)
        finally:
            self._carried.clear()
            while not self._outgoing.empty():  # nobody will send these: not connected
                _, sent = self._outgoing.get_nowait()
                if not sent.done():
                    sent.set_result(False)

    async def _hand_over(self, claim: ArbitrationClaim) -> bool:
        if not self._carried.is_set():
            return False
        sent: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._outgoing.put_nowait((claim, sent))
        return await sent
