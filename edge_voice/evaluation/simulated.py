"""The offline backend: the project's simulator, answering each case from the suite itself.

Before each session the simulator gets a one-turn scenario built from the case: its reference
answer (the expected calls with their values, then the reference reply). A seeded choice of
exactly `round(error_rate × cases)` cases per model and repetition gets a wrong answer instead:
a wrong tool, a wrong argument value, a call where none is wanted, a forbidden phrase, markdown,
too many words or another language, whichever of these the case's checks catch (each wrong
answer is scored before it is used, so it is certain to fail). Likewise `connect_failure_rate`
makes that share of sessions meet `model_not_found`, as a model without access does.
So the scoring, the statistics and the report are exercised with known answers.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

from pydantic import SecretStr

from edge_voice.evaluation.runner import Endpoint
from edge_voice.evaluation.scoring import Observed, ObservedCall, score
from edge_voice.evaluation.suite import Case, ReferenceCall, Suite
from edge_voice.models.catalog import ModelCatalog, ModelInfo
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from edge_voice.sim.scenario import Scenario, ToolCall, Turn

#: The key the simulator accepts (any non-empty key works; this one says where it came from).
SIM_KEY: Final = "sk-edge-voice-eval-simulator"
_GERMAN: Final = "Das habe ich jetzt für dich erledigt, das Licht ist an."
_FILLER: Final = "and that is all there is to it"


@dataclass(frozen=True)
class Answer:
    """What the simulated model says and calls for one case."""

    say: str
    calls: tuple[ReferenceCall, ...]
    #: Which mistake this answer makes ("" for the reference answer).
    mistake: str = ""

    def observed(self) -> Observed:
        """The answer as the scoring will see it."""
        calls = tuple(ObservedCall(c.name, _json(c.arguments)) for c in self.calls)
        return Observed(calls, self.say)


def _json(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, separators=(",", ":"))


def reference_answer(case: Case) -> Answer:
    """The good answer: the reference calls, then the reference reply."""
    say = case.reference.after_call or case.reference.say
    return Answer(say, tuple(case.reference_calls()))


def _wrong_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 7
    return "nowhere"


def _call_mistakes(case: Case, suite: Suite, good: Answer) -> dict[str, Answer]:
    calls, say = good.calls, good.say
    out: dict[str, Answer] = {}
    if suite.tools:
        extra = ReferenceCall(name=suite.tools[0].name, arguments={})
        out["spurious_call"] = Answer(say, (*calls, extra), "spurious_call")
    if not calls:
        return out
    first, rest = calls[0], calls[1:]
    others = [t.name for t in suite.tools if t.name not in {c.name for c in calls}]
    if others:
        swapped = ReferenceCall(name=others[0], arguments=first.arguments)
        out["wrong_tool"] = Answer(say, (swapped, *rest), "wrong_tool")
    expected = case.expect.calls or []
    keys = list(expected[0].arguments or expected[0].patterns) if expected else []
    if keys:
        args = {**first.arguments, keys[0]: _wrong_value(first.arguments.get(keys[0], ""))}
        wrong = ReferenceCall(name=first.name, arguments=args)
        out["wrong_argument"] = Answer(say, (wrong, *rest), "wrong_argument")
    return out


def _speech_mistakes(case: Case, good: Answer) -> dict[str, Answer]:
    spec, calls, say = case.expect.say, good.calls, good.say
    if spec is None:
        return {}
    other = _GERMAN if spec.language != "de" else "The light is on now, it is done."
    out = {
        "markdown": Answer(f"**{say}**", calls, "markdown"),
        "too_long": Answer(" ".join([say] + [_FILLER] * 12), calls, "too_long"),
        "wrong_language": Answer(other, calls, "wrong_language"),
    }
    if spec.exclude:
        out["forbidden_phrase"] = Answer(f"{say} {spec.exclude[0]}", calls, "forbidden_phrase")
    return out


def wrong_answer(case: Case, suite: Suite, rng: random.Random) -> Answer:
    """A wrong answer to `case` that its checks catch, the kind drawn by `rng`."""
    good = reference_answer(case)
    options = _call_mistakes(case, suite, good) | _speech_mistakes(case, good)
    kinds = sorted(options)
    rng.shuffle(kinds)
    for kind in kinds:
        answer = options[kind]
        # Only a mistake the case's checks catch is one: the error rate must be exact.
        if not score(case, answer.observed(), suite).passed:
            return answer
    raise ValueError(f"case {case.id!r}: no wrong answer its checks would catch")


def scenario_for(answer: Answer, case: Case) -> Scenario:
    """A one-turn scenario that gives `answer` to any input."""
    calls = [ToolCall(name=c.name, arguments=c.arguments) for c in answer.calls]
    turn = (
        Turn(
            user=case.input.transcript,
            match="",
            call=calls[0],
            more_calls=calls[1:],
            after_call=answer.say,
        )
        if calls
        else Turn(user=case.input.transcript, match="", say=answer.say)
    )
    return Scenario(name=f"eval:{case.id}", turns=[turn], fallback=turn, idle_reply=answer.say)


def sim_calendar(models: Sequence[ModelInfo], catalog: ModelCatalog, today: dt.date) -> dt.date:
    """The simulator's date: `today`, or the day before the first shutdown of a retired model.

    The simulator refuses models past their shutdown as the service does; to measure a retired
    model (the preview, for the cost ratio) it is set back to when all of them were served.
    """
    shutdowns = []
    for model in models:
        for life in (model.lifecycle, catalog.protocol_lifecycle(model.protocol)):
            if life.shutdown is not None and life.shutdown <= today:
                shutdowns.append(life.shutdown)
    return min(shutdowns) - dt.timedelta(days=1) if shutdowns else today


class SimulatedBackend:
    """The simulator in-process, with the suite's answers and seeded error rates."""

    def __init__(
        self,
        suite: Suite,
        *,
        error_rate: float = 0.0,
        connect_failure_rate: float = 0.0,
        seed: int = 0,
        today: dt.date | None = None,
        catalog: ModelCatalog | None = None,
    ) -> None:
        for name, rate in (
            ("error_rate", error_rate),
            ("connect_failure_rate", connect_failure_rate),
        ):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {rate}")
        self.suite = suite
        self.error_rate = error_rate
        self.connect_failure_rate = connect_failure_rate
        self.seed = seed
        self.sim = RealtimeSimulator(SimConfig(pacing=0.0, today=today), catalog=catalog)
        self._picks: dict[tuple[str, str, int], set[str]] = {}
        #: The wrong answers given: (model, repeat, case id) → mistake.
        self.mistakes: dict[tuple[str, int, str], str] = {}

    async def __aenter__(self) -> SimulatedBackend:
        await self.sim.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.sim.stop()

    @property
    def endpoint(self) -> Endpoint:
        """The simulator's URL and key."""
        return Endpoint("simulator", self.sim.url, SecretStr(SIM_KEY))

    def _rng(self, what: str, model: str, repeat: int) -> random.Random:
        # Reproducible choices of which cases err, not secrets.
        return random.Random(f"{self.seed}:{what}:{model}:{repeat}")  # noqa: S311

    def _picked(self, what: str, rate: float, model: str, repeat: int) -> set[str]:
        key = (what, model, repeat)
        if key not in self._picks:
            ids = [c.id for c in self.suite.cases]
            count = round(rate * len(ids))
            self._picks[key] = set(self._rng(what, model, repeat).sample(ids, count))
        return self._picks[key]

    def before_case(self, case: Case, model: str, repeat: int) -> None:
        """Set the simulator's answer (and connection fault) for this case's session."""
        answer = reference_answer(case)
        if case.id in self._picked("error", self.error_rate, model, repeat):
            rng = self._rng(f"mistake:{case.id}", model, repeat)
            answer = wrong_answer(case, self.suite, rng)
            self.mistakes[(model, repeat, case.id)] = answer.mistake
        self.sim.scenario = scenario_for(answer, case)
        refused = case.id in self._picked("connect", self.connect_failure_rate, model, repeat)
        self.sim.config.not_found_models = {model} if refused else set()
