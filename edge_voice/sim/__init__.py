"""Offline OpenAI Realtime API simulator (GA and beta shapes) with fault injection."""

from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator

__all__ = ["RealtimeSimulator", "SimConfig"]
