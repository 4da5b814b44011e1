"""Scoring one answer against a case: its function calls, then what it said.

Function calling: every expected call must be made once, to the expected tool, with arguments
that are valid JSON, valid against the tool's declared JSON schema, and carry the expected
values; a call nobody expected fails the case (`calls: []` expects none at all). A multi-call
case that gets some calls right is partial: `calls_matched` says how many.
Instruction following: the `say` checks of `checks.speech_checks`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from edge_voice.evaluation.checks import Check, speech_checks
from edge_voice.evaluation.suite import Case, ExpectedCall, Suite, Tool


@dataclass(frozen=True, slots=True)
class ObservedCall:
    """A function call the model made: the tool name and its arguments as sent (JSON text)."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Observed:
    """What the model did in one interaction: its calls and everything it said."""

    calls: tuple[ObservedCall, ...] = ()
    text: str = ""


@dataclass(frozen=True, slots=True)
class CaseScore:
    """The checks of one answer, and the verdicts they add up to."""

    checks: tuple[Check, ...]
    #: None when the case does not score that dimension.
    function_calling: bool | None
    instruction_following: bool | None
    calls_expected: int = 0
    calls_matched: int = 0

    @property
    def passed(self) -> bool:
        """Every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def partial(self) -> bool:
        """Some but not all of the expected calls were right (multi-call cases)."""
        return 0 < self.calls_matched < self.calls_expected

    def failures(self) -> list[str]:
        """The failed checks, each with its detail."""
        return [
            f"{c.name}: {c.detail}" if c.detail else c.name for c in self.checks if not c.passed
        ]


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and isinstance(actual, str):
        return " ".join(expected.lower().split()) == " ".join(actual.lower().split())
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(actual, numbers):
        if isinstance(expected, bool) or isinstance(actual, bool):
            return expected is actual
        return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-9)
    return bool(expected == actual)


def _value_problems(expected: ExpectedCall, args: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, value in expected.arguments.items():
        if key not in args:
            problems.append(f"{expected.name}: {key} missing (expected {value!r})")
        elif not _same(value, args[key]):
            problems.append(f"{expected.name}: {key}={args[key]!r}, expected {value!r}")
    for key, pattern in expected.patterns.items():
        got = args.get(key)
        if not isinstance(got, str) or not re.fullmatch(pattern, got.strip(), re.IGNORECASE):
            problems.append(f"{expected.name}: {key}={got!r} does not match /{pattern}/")
    return problems


def call_problems(expected: ExpectedCall, call: ObservedCall, tool: Tool | None) -> list[str]:
    """Why `call` is not the `expected` one (empty: it is)."""
    if call.name != expected.name:
        return [f"called {call.name}, not {expected.name}"]
    try:
        args = json.loads(call.arguments or "{}")
    except ValueError:
        return [f"{call.name}: arguments are not valid JSON: {call.arguments[:80]!r}"]
    if not isinstance(args, dict):
        return [f"{call.name}: arguments are not a JSON object"]
    problems = []
    if tool is not None:
        for error in Draft202012Validator(tool.parameters).iter_errors(args):
            where = ".".join(str(p) for p in error.absolute_path) or "arguments"
            problems.append(f"{call.name}: schema: {where}: {error.message}")
    return problems + _value_problems(expected, args)


def _match_calls(
    expected: Sequence[ExpectedCall], observed: Sequence[ObservedCall], tools: Mapping[str, Tool]
) -> tuple[list[Check], int]:
    """One check per expected call and per unexpected call; how many expected ones matched."""
    unused = list(observed)
    checks, matched = [], 0
    for want in expected:
        hit = next((c for c in unused if not call_problems(want, c, tools.get(want.name))), None)
        if hit is not None:
            unused.remove(hit)
            matched += 1
            checks.append(Check(f"calls {want.name}", True))
            continue
        same_name = [c for c in unused if c.name == want.name]
        candidate = same_name[0] if same_name else (unused[0] if unused else None)
        detail = (
            "; ".join(call_problems(want, candidate, tools.get(want.name)))
            if candidate is not None
            else "not called"
        )
        if candidate is not None and candidate.name == want.name:
            unused.remove(candidate)
        checks.append(Check(f"calls {want.name}", False, detail))
    for extra in unused:
        declared = "" if extra.name in tools else " (an undeclared tool)"
        checks.append(Check("no unexpected call", False, f"called {extra.name}{declared}"))
    return checks, matched


def score(case: Case, observed: Observed, suite: Suite) -> CaseScore:
    """The checks of `case` on the answer `observed`."""
    checks: list[Check] = []
    fc: bool | None = None
    expected_calls = case.expect.calls
    matched = 0
    if expected_calls is not None:
        call_checks, matched = _match_calls(expected_calls, observed.calls, suite.tool_map)
        if not expected_calls and not observed.calls:
            call_checks = [Check("no call", True)]
        checks += call_checks
        fc = all(c.passed for c in call_checks)
    if_: bool | None = None
    if case.expect.say is not None:
        say_checks = speech_checks(case.expect.say, observed.text)
        checks += say_checks
        if_ = all(c.passed for c in say_checks)
    return CaseScore(
        checks=tuple(checks),
        function_calling=fc,
        instruction_following=if_,
        calls_expected=len(expected_calls or ()),
        calls_matched=matched,
    )
