"""Deterministic checks of what the model said: language, length, phrases, no markdown.

Nothing here asks another model. The language check is a documented heuristic with no
dependency: it counts the words of the answer that are in a short list of very common function
words of each language (articles, pronouns, auxiliaries, prepositions, and a few words every
home-control answer uses: light, now, on/off); the language with the most hits wins, ties and
answers with no hit are "unknown". It tells a German answer from an English one reliably from
about five words on; it is not a general language identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from edge_voice.evaluation.suite import SpeechChecks

_STOPWORDS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset(
        [
            "the",
            "a",
            "an",
            "is",
            "are",
            "was",
            "it",
            "this",
            "that",
            "and",
            "or",
            "to",
            "of",
            "in",
            "on",
            "for",
            "with",
            "you",
            "your",
            "i",
            "it's",
            "is",
            "be",
            "have",
            "has",
            "do",
            "does",
            "not",
            "can",
            "will",
            "turned",
            "light",
            "now",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "ein",
            "eine",
            "ist",
            "sind",
            "war",
            "es",
            "und",
            "oder",
            "zu",
            "von",
            "im",
            "in",
            "auf",
            "für",
            "mit",
            "du",
            "sie",
            "ich",
            "nicht",
            "kann",
            "wird",
            "ist",
            "jetzt",
            "licht",
            "habe",
            "hat",
            "den",
            "dem",
            "ausgeschaltet",
            "eingeschaltet",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "un",
            "une",
            "est",
            "sont",
            "était",
            "il",
            "elle",
            "et",
            "ou",
            "à",
            "de",
            "du",
            "dans",
            "sur",
            "pour",
            "avec",
            "vous",
            "je",
            "ne",
            "pas",
            "peut",
            "sera",
            "c'est",
            "lumière",
            "maintenant",
            "allumé",
            "éteint",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "un",
            "una",
            "es",
            "son",
            "era",
            "y",
            "o",
            "a",
            "de",
            "del",
            "en",
            "sobre",
            "para",
            "con",
            "usted",
            "yo",
            "no",
            "puede",
            "será",
            "está",
            "luz",
            "ahora",
            "encendida",
            "apagada",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "un",
            "una",
            "è",
            "sono",
            "era",
            "e",
            "o",
            "a",
            "di",
            "del",
            "in",
            "su",
            "per",
            "con",
            "tu",
            "io",
            "non",
            "può",
            "sarà",
            "luce",
            "adesso",
            "ora",
            "accesa",
            "spenta",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "is",
            "zijn",
            "was",
            "en",
            "of",
            "te",
            "van",
            "in",
            "op",
            "voor",
            "met",
            "jij",
            "u",
            "ik",
            "niet",
            "kan",
            "zal",
            "licht",
            "nu",
            "aan",
            "uit",
            "staat",
        ]
    ),
}
_WORD = re.compile(r"[\w'’]+", re.UNICODE)
#: Markdown that a speech engine would read out or mangle, one pattern per construct.
_MARKDOWN: Final = (
    ("emphasis", re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__|(?<!\w)\*[^*\s][^*\n]*\*(?!\w)")),
    ("heading", re.compile(r"(?m)^\s{0,3}#{1,6}\s")),
    ("list", re.compile(r"(?m)^\s*(?:[-*+]|\d+[.)])\s+\S")),
    ("code", re.compile(r"`")),
    ("link", re.compile(r"\[[^\]\n]+\]\([^)\s]+\)")),
    ("table", re.compile(r"(?m)^\s*\|.*\|\s*$")),
)


@dataclass(frozen=True, slots=True)
class Check:
    """One scored property of an answer."""

    name: str
    passed: bool
    detail: str = ""


def words(text: str) -> list[str]:
    """The words of `text` (letters, digits, apostrophes)."""
    return _WORD.findall(text)


def detect_language(text: str) -> str:
    """The language whose common words the text uses most (`unknown` if none or a tie)."""
    tokens = [w.lower().replace("’", "'") for w in words(text)]
    hits = {lang: sum(t in vocab for t in tokens) for lang, vocab in _STOPWORDS.items()}
    best = max(hits.values(), default=0)
    winners = [lang for lang, n in hits.items() if n == best]
    return winners[0] if best > 0 and len(winners) == 1 else "unknown"


def markdown_found(text: str) -> list[str]:
    """The markdown constructs in `text` (empty when it reads as plain speech)."""
    return [name for name, pattern in _MARKDOWN if pattern.search(text)]


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def speech_checks(spec: SpeechChecks, text: str) -> list[Check]:
    """Every check `spec` asks for, on the answer `text`."""
    said, out = _norm(text), []
    if not said:
        out.append(Check("said something", False, "no text or transcript in the answer"))
    if spec.language is not None:
        found = detect_language(text)
        out.append(Check(f"language {spec.language}", found == spec.language, f"looks {found}"))
    count = len(words(text))
    if spec.max_words is not None:
        out.append(Check(f"≤ {spec.max_words} words", count <= spec.max_words, f"{count} words"))
    if spec.max_chars is not None:
        ok = len(text.strip()) <= spec.max_chars
        out.append(Check(f"≤ {spec.max_chars} chars", ok, f"{len(text.strip())} chars"))
    for phrase in spec.include:
        out.append(Check(f"says {phrase!r}", _norm(phrase) in said))
    if spec.include_any:
        ok = any(_norm(p) in said for p in spec.include_any)
        out.append(Check(f"says one of {spec.include_any!r}", ok))
    for phrase in spec.exclude:
        ok = _norm(phrase) not in said
        out.append(Check(f"avoids {phrase!r}", ok, "" if ok else "said it"))
    if spec.no_markdown:
        found_md = markdown_found(text)
        out.append(Check("no markdown", not found_md, ", ".join(found_md)))
    return out
