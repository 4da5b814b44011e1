"""Which scenario line the next response speaks, given user turns and function call outputs.

Models with asynchronous function calling keep talking while a call has no output: a user turn
then gets the scenario's `waiting_reply` (the real service's placeholder result makes the model
say it is still waiting), and the response after the late output speaks the call's `after_call`.
Several calls may be open at once; each is answered when its output comes.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_voice.sim.scenario import Scenario, ScenarioCursor, ToolCall, Turn


@dataclass
class Reply:
    """The content of the next response."""

    say: str | None
    call: ToolCall | None = None
    turn: Turn | None = None
    #: Calls made after `call` in the same response (declared tools only).
    more_calls: tuple[ToolCall, ...] = ()


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
        self._calls: list[_PendingCall] = []

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
        self._calls.append(_PendingCall(turn, call_id))

    def call_output(self, call_id: str, output: str = "") -> None:
        """The client returned output for `call_id`."""
        for call in self._calls:
            if call.call_id == call_id:
                call.has_output = True
                call.output = output

    def next_reply(self, tools: set[str], tool_choice: object, *, async_functions: bool) -> Reply:
        """What the next response says; consumes the pending turn or call outputs."""
        if self._turn is not None:
            turn, self._turn = self._turn, None
            return self._answer(turn, tools, tool_choice, async_functions=async_functions)
        answered = [c for c in self._calls if c.has_output]
        if answered:
            self._calls = [c for c in self._calls if not c.has_output]
            # The calls of one turn (parallel calls) get its `after_call` once.
            by_turn: dict[int, list[_PendingCall]] = {}
            for call in answered:
                by_turn.setdefault(id(call.turn), []).append(call)
            return Reply(
                " ".join(
                    fill(cs[0].turn.after_call or "Done.", output=" ".join(c.output for c in cs))
                    for cs in by_turn.values()
                )
            )
        if self._calls and async_functions:
            return Reply(self.scenario.waiting_reply)
        return Reply(self.scenario.idle_reply)

    def _answer(
        self, turn: Turn, tools: set[str], tool_choice: object, *, async_functions: bool
    ) -> Reply:
        if turn.call is None:
            if turn.mcp is not None:
                # An MCP turn: the MCP part of the connection decides whether it can call.
                return Reply(turn.say, turn=turn)
            waiting = async_functions and any(not c.has_output for c in self._calls)
            return Reply(self.scenario.waiting_reply if waiting else turn.say)
        declared = turn.call.name in tools or turn.call.even_if_undeclared
        if declared and tool_choice != "none":
            more = tuple(c for c in turn.more_calls if c.name in tools or c.even_if_undeclared)
            return Reply(turn.say, turn.call, turn, more)
        return Reply(turn.otherwise or turn.say or self.scenario.fallback.say)


def fill(text: str, **values: str) -> str:
    """`text` with each `{name}` replaced by its value (other braces are left alone)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text
