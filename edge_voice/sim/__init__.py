"""Offline OpenAI Realtime API simulator (GA and beta shapes) with fault injection."""

from edge_voice.sim.config import SimConfig
from edge_voice.sim.observe import ConnectionRecord
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import Scenario, Turn, default_scenario, load_scenario, parse_scenario

__all__ = [
    "ConnectionRecord",
    "RealtimeSimulator",
    "Scenario",
    "SimConfig",
    "Turn",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
]
