"""Eval suites: tools as JSON schema, and cases with their input and what a good answer does.

A suite is YAML (the default one ships in `suites/default.yaml`). It is validated with pydantic;
a mistake is refused with a message that names the case (its `id` and position) and the field,
e.g. ``suite.yaml: case 'light_on' (cases[3]): expect.say.max_words: Input should be greater
than 0``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: What a case exercises; the report breaks pass rates down by it.
Category = Literal[
    "home_control",
    "distractor",
    "arguments",
    "multi_call",
    "refusal",
    "brevity",
    "language",
    "no_markdown",
]
#: Languages the deterministic language check knows (see `checks.detect_language`).
Language = Literal["en", "de", "fr", "es", "it", "nl"]
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the case and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tool(_Strict):
    """A function tool as the session declares it; `source` says where such tools come from."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    #: node-red (a flow's `<base>/tools/<name>` declaration), mcp (a local MCP server through
    #: the bridge, named `mcp_<server>_<tool>`) or config (`tools:` in the config file).
    source: Literal["node-red", "mcp", "config"] = "config"

    @field_validator("parameters")
    @classmethod
    def _is_json_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            raise ValueError(f"not a valid JSON schema: {exc.message}") from None
        return value

    def session_tool(self) -> dict[str, Any]:
        """The declaration as `SessionSettings.tools` takes it."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


class CaseInput(_Strict):
    """What the user says: typed `text`, a phrase to `speak` with espeak-ng, or a `wav` file."""

    text: str | None = Field(default=None, min_length=1)
    speak: str | None = Field(default=None, min_length=1)
    #: A WAV file (PCM16, any rate, mono), relative to the suite file.
    wav: str | None = Field(default=None, min_length=1)
    #: The espeak-ng voice for `speak`.
    voice: str = "en-us"

    @model_validator(mode="after")
    def _exactly_one(self) -> CaseInput:
        given = [k for k in ("text", "speak", "wav") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of text, speak or wav (got {given or 'none'})")
        return self

    @property
    def kind(self) -> Literal["text", "audio"]:
        """Whether the case goes in as a text item or as audio."""
        return "text" if self.text is not None else "audio"

    @property
    def transcript(self) -> str:
        """What the user says, as words (a WAV file's name when only the file is known)."""
        return self.text or self.speak or f"<{self.wav}>"


class ExpectedCall(_Strict):
    """A call the model should make: the tool, and values some of its arguments must have."""

    name: str
    #: Exact values (strings compared case- and space-insensitively, numbers numerically).
    arguments: dict[str, Any] = Field(default_factory=dict)
    #: Regexes (case-insensitive, whole value) for arguments with more than one good value.
    patterns: dict[str, str] = Field(default_factory=dict)

    @field_validator("patterns")
    @classmethod
    def _regexes_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for key, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{key}: not a valid regex: {exc}") from None
        return value


class SpeechChecks(_Strict):
    """Deterministic checks of what the model says (transcript of its audio, or its text)."""

    language: Language | None = None
    max_words: int | None = Field(default=None, gt=0)
    max_chars: int | None = Field(default=None, gt=0)
    #: Each phrase must appear (case-insensitive).
    include: list[str] = Field(default_factory=list)
    #: At least one of these must appear.
    include_any: list[str] = Field(default_factory=list)
    #: None of these may appear.
    exclude: list[str] = Field(default_factory=list)
    #: No markdown (lists, emphasis, headings, code, links, tables): it is read aloud.
    no_markdown: bool = True


class Expect(_Strict):
    """What a good answer does; `calls: []` means no call at all, absent means not scored."""

    calls: list[ExpectedCall] | None = None
    say: SpeechChecks | None = None

    @model_validator(mode="after")
    def _checks_something(self) -> Expect:
        if self.calls is None and self.say is None:
            raise ValueError("a case must expect `calls` (maybe []) or `say` checks, or both")
        return self


class ReferenceCall(_Strict):
    """A call of the reference answer."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Reference(_Strict):
    """The answer the simulator gives (a good one); calls default to the expected ones."""

    say: str = "Done."
    calls: list[ReferenceCall] | None = None
    #: Said after the call outputs are in (cases with calls).
    after_call: str | None = None


class Case(_Strict):
    """One interaction: input, expectations, the simulator's reference answer."""

    id: str
    category: Category
    input: CaseInput
    expect: Expect
    reference: Reference = Reference()
    #: The output the eval returns for each call the model makes (JSON text).
    call_output: str = '{"ok": true}'

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lower-case letters, digits, '_', '.' and '-'")
        return value

    def reference_calls(self) -> list[ReferenceCall]:
        """The reference answer's calls: its own, or the expected ones with their values."""
        if self.reference.calls is not None:
            return list(self.reference.calls)
        return [ReferenceCall(name=c.name, arguments=c.arguments) for c in self.expect.calls or []]


class Suite(_Strict):
    """A named set of cases over one set of tools and instructions."""

    name: str
    description: str = ""
    #: The session instructions every case runs with (a voice assistant's, by default).
    instructions: str = ""
    tools: list[Tool] = Field(default_factory=list)
    cases: list[Case] = Field(min_length=1)
    #: Where relative `wav:` paths are looked up (the suite file's folder).
    base_dir: Path | None = Field(default=None, exclude=True)

    @cached_property
    def tool_map(self) -> Mapping[str, Tool]:
        """The declared tools by name."""
        return {t.name: t for t in self.tools}

    def session_tools(self) -> tuple[dict[str, Any], ...]:
        """The tools as the session declares them."""
        return tuple(t.session_tool() for t in self.tools)

    def select(self, ids: Sequence[str]) -> Suite:
        """A suite of only the named cases, in the given order (unknown ids raise SuiteError)."""
        by_id = {c.id: c for c in self.cases}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise SuiteError(f"unknown case ids: {', '.join(unknown)}")
        return self.model_copy(update={"cases": [by_id[i] for i in ids]})


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    """`case 'x' (cases[3]): a.b[0]` for an error location inside the cases, else `a.b`."""
    head = ""
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        cases = data.get("cases") if isinstance(data, dict) else None
        raw = cases[loc[1]] if isinstance(cases, list) and loc[1] < len(cases) else None
        case_id = raw.get("id") if isinstance(raw, dict) else None
        head = f"case {case_id!r} (cases[{loc[1]}])" if case_id else f"cases[{loc[1]}]"
        loc = loc[2:]
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return ": ".join(p for p in (head, path) if p)


def _cross_check(suite: Suite) -> list[str]:
    """What pydantic cannot see field by field: unique ids, calls to declared tools."""
    problems, seen = [], set[str]()
    for index, case in enumerate(suite.cases):
        where = f"case {case.id!r} (cases[{index}])"
        if case.id in seen:
            problems.append(f"{where}: id: duplicate case id")
        seen.add(case.id)
        for n, call in enumerate(case.expect.calls or []):
            if call.name not in suite.tool_map:
                problems.append(
                    f"{where}: expect.calls[{n}].name: tool {call.name!r} is not "
                    "declared in `tools` (a refusal case expects `calls: []`)"
                )
        for n, ref in enumerate(case.reference.calls or []):
            if ref.name not in suite.tool_map:
                problems.append(
                    f"{where}: reference.calls[{n}].name: tool {ref.name!r} is "
                    "not declared in `tools`"
                )
    return problems


def parse_suite(text: str, source: str = "<suite>", base_dir: Path | None = None) -> Suite:
    """Validate suite YAML text; raises SuiteError naming the case and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SuiteError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SuiteError(f"{source}: a suite is a mapping with `name:`, `tools:` and `cases:`")
    try:
        suite = Suite.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        lines = [f"{_where(data, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise SuiteError(f"{source}: " + f"\n{source}: ".join(lines)) from None
    problems = _cross_check(suite)
    if problems:
        raise SuiteError(f"{source}: " + f"\n{source}: ".join(problems))
    return suite


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file (raises SuiteError; OSError if it cannot be read)."""
    path = Path(path)
    return parse_suite(path.read_text(encoding="utf-8"), str(path), path.parent)


def default_suite() -> Suite:
    """The suite shipped with the package."""
    text = resources.files("edge_voice.evaluation").joinpath("suites/default.yaml")
    return parse_suite(text.read_text("utf-8"), "suites/default.yaml")
