"""Scenario files: what the simulated model "hears" and says, turn by turn (YAML, validated)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edge_voice.sim.config import DropMode, SimConfig


class ToolCall(BaseModel):
    """A function call the model makes; only made when the session declares the tool."""

    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    #: Made even when the session does not declare the tool: a model that makes one up (or
    #: was talked into it), for testing that the client never runs such a call.
    even_if_undeclared: bool = False


class McpToolCall(BaseModel):
    """A tool of a native MCP server the model calls; only made when the server listed it."""

    model_config = ConfigDict(extra="forbid")

    server_label: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Turn(BaseModel):
    """One user utterance and the model's answer to it."""

    model_config = ConfigDict(extra="forbid")

    #: What the sim claims the user said (the input transcript of an audio turn).
    user: str
    #: Regex (case-insensitive) over text the client sends; default: the words of `user`.
    match: str | None = None
    #: Spoken first; with `call`, in the same response as the call.
    say: str | None = None
    call: ToolCall | None = None
    #: Further calls in the same response after `call` (parallel function calls).
    more_calls: list[ToolCall] = Field(default_factory=list)
    #: A native MCP call (session tool `type: mcp`), made by the "server" itself.
    mcp: McpToolCall | None = None
    #: Spoken in the response after the call's output is in; `{output}` stands for it.
    after_call: str | None = None
    #: Spoken after an MCP call failed or was denied; `{error}` stands for the error.
    on_error: str | None = None
    #: Spoken instead of the call when the session does not declare (or list) the tool.
    otherwise: str | None = None

    @field_validator("match")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:  # not a ValueError, so pydantic would not report it
                raise ValueError(f"`match` is not a valid regex: {exc}") from None
        return value

    @model_validator(mode="after")
    def _has_answer(self) -> Turn:
        if self.say is None and self.call is None and self.mcp is None:
            raise ValueError("a turn needs `say`, `call` or `mcp` (or `say` with one of them)")
        if self.call is not None and self.mcp is not None:
            raise ValueError("a turn makes a `call` or an `mcp` call, not both")
        if self.more_calls and self.call is None:
            raise ValueError("`more_calls` needs `call`")
        if self.after_call is not None and self.call is None and self.mcp is None:
            raise ValueError("`after_call` needs `call` or `mcp`")
        if self.on_error is not None and self.mcp is None:
            raise ValueError("`on_error` needs `mcp`")
        return self

    def matches(self, text: str) -> bool:
        """Whether text the client sent selects this turn."""
        if self.match is not None:
            return re.search(self.match, text, re.IGNORECASE) is not None
        said, mine = _words(text), _words(self.user)
        return bool(said) and (said in mine or mine in said)


class FaultSettings(BaseModel):
    """Fault switches a scenario file may set; each one overrides the SimConfig field."""

    model_config = ConfigDict(extra="forbid")

    beta_disabled: bool | None = None
    refuse_models: list[str] | None = None
    not_found_models: list[str] | None = None
    forbid_models: list[str] | None = None
    stall_models: list[str] | None = None
    session_max_s: float | None = Field(default=None, gt=0)
    drop_after_audio_deltas: int | None = Field(default=None, ge=0)
    drop_mode: DropMode | None = None
    drop_responses: int | None = Field(default=None, ge=0)
    rate_limit_responses: int | None = Field(default=None, ge=0)
    rate_limit_retry_after_s: float | None = Field(default=None, ge=0)
    first_audio_delay_ms: int | None = Field(default=None, ge=0)
    slow_responses: int | None = Field(default=None, ge=0)

    def apply_to(self, config: SimConfig) -> None:
        """Write the fields that are set into `config`."""
        for name, value in self.model_dump(exclude_none=True).items():
            setattr(config, name, set(value) if isinstance(value, list) else value)


class Scenario(BaseModel):
    """A script of turns, matched in order for audio and by text for text items."""

    model_config = ConfigDict(extra="forbid")

    name: str = "scenario"
    #: Start again from the first turn once the last one is used.
    loop: bool = True
    turns: list[Turn] = Field(min_length=1)
    #: Used when nothing matches (text) or the turns are used up without `loop`.
    fallback: Turn = Turn(user="", say="Sorry, I didn't catch that.")
    #: Said on `response.create` with no new user input.
    idle_reply: str = "How can I help?"
    #: Said while a function call has no output yet (models with async function calling): on
    #: `response.create`, and instead of a user turn's own answer unless that turn calls too.
    waiting_reply: str = "I'm still waiting for that to finish."
    faults: FaultSettings | None = None


@dataclass
class ScenarioCursor:
    """Per-connection position in a scenario."""

    scenario: Scenario
    position: int = 0

    def next_for_audio(self) -> Turn:
        """The turn an audio utterance stands for: simply the next one."""
        turns = self.scenario.turns
        if self.position >= len(turns):
            if not self.scenario.loop:
                return self.scenario.fallback
            self.position = 0
        turn = turns[self.position]
        self.position += 1
        return turn

    def for_text(self, text: str) -> Turn:
        """The first turn from the current position on (wrapping if looping) matching `text`."""
        turns = self.scenario.turns
        order = list(range(self.position, len(turns)))
        if self.scenario.loop:
            order += list(range(self.position))
        for index in order:
            if turns[index].matches(text):
                self.position = index + 1
                return turns[index]
        return self.scenario.fallback


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file (raises ValueError with the reason)."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a scenario is a mapping with `turns:`")
    try:
        return Scenario.model_validate(data)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc


def default_scenario() -> Scenario:
    """The scenario shipped in edge_voice/assets/sim/default.yaml."""
    res = resources.files("edge_voice").joinpath("assets", "sim", "default.yaml")
    return parse_scenario(res.read_text("utf-8"), source="assets/sim/default.yaml")
