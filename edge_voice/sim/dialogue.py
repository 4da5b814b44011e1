"""Which scenario line the next response speaks, given user turns and function call outputs."""

from __future__ import annotations

from dataclasses import dataclass

from edge_voice.sim.scenario import Scenario, ScenarioCursor, ToolCall, Turn


@dataclass
class Reply:
    """The content of the next response."""

    say: str | None
    call: ToolCall | None = None
    turn: Turn | None = None


@dataclass
class _PendingCall:
    turn: Turn
    call_id: str
    has_output: bool = False
    output: str = ""


class Dialogue:
    """Per-connection dialogue state over a scenario."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.cursor = ScenarioCursor(scenario)
        self._turn: Turn | None = None
        self._call: _PendingCall | None = None

    def user_audio(self) -> Turn:
        """An audio utterance was committed: it "was" the next turn."""
        self._turn = self.cursor.next_for_audio()
        return self._turn

    def user_text(self, text: str) -> Turn:
        """The client sent text: the turn it matches."""
        self._turn = self.cursor.for_text(text)
        return self._turn

    def call_made(self, turn: Turn, call_id: str) -> None:
        """A response completed the function call of `turn`."""
        self._call = _PendingCall(turn, call_id)

    def call_output(self, call_id: str, output: str = "") -> None:
        """The client returned output for `call_id`."""
        if self._call is not None and self._call.call_id == call_id:
            self._call.has_output = True
            self._call.output = output

    def next_reply(self, tools: set[str], tool_choice: object, *, async_functions: bool) -> Reply:
        """What the next response says; consumes the pending turn or call output."""
        if self._turn is not None:
            turn, self._turn = self._turn, None
            if turn.call is None:
                # An MCP turn: the MCP part of the connection decides whether it can call.
                return Reply(turn.say, turn=turn if turn.mcp is not None else None)
            if turn.call.name in tools and tool_choice != "none":
                return Reply(turn.say, turn.call, turn)
            return Reply(turn.otherwise or turn.say or self.scenario.fallback.say)
        if self._call is not None and self._call.has_output:
            call, self._call = self._call, None
            return Reply(fill(call.turn.after_call or "Done.", output=call.output))
        if self._call is not None and async_functions:
            return Reply(self.scenario.waiting_reply)
        return Reply(self.scenario.idle_reply)


def fill(text: str, **values: str) -> str:
    """`text` with each `{name}` replaced by its value (other braces are left alone)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text
