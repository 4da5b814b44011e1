"""The soak's figures and its invariants: what broke, in words, and the table that shows it.

QoS 1 is at-least-once. A publication in flight when the broker stops (sent, PUBACK not yet
back) is sent again after the reconnect, and the broker may deliver a message again to a
persistent subscriber after its own restart. So a second copy of a message is allowed only
when a broker restart (the old broker's exit: after SIGTERM it still takes publications for a
moment) lies between the device queueing it and the copy's arrival; any other copy is a
duplicate the service made, and breaks the run. Copies are told apart by the whole
payload: every event carries its `ts` (milliseconds) and its own ids (response_id, call_id).
"""

from __future__ import annotations

import asyncio
import bisect
import gc
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.soak_rig import Key
from bench.stats import deep_size_mb, malloc_in_use_mb, malloc_trim, proc_rss_mb, python_heap_mb

#: Allowed for RSS after the first tenth: allocator and cache noise, not per-conversation growth.
RSS_SLACK_MB = 16.0
RSS_PER_CONVERSATION_MB = 0.01
#: Allowed for the live heap (less the rig's records) after the first tenth: bounded caches
#: filling (latency windows, history), with no allowance per conversation: flat.
LIVE_SLACK_MB = 2.0
#: Open fds and tasks may differ by a connection being (re)opened at the moment of counting.
FD_SLACK = 2
TASK_SLACK = 2


@dataclass
class Figures:
    """Everything counted during one soak."""

    conversations: int
    seed: int
    elapsed_s: float
    machine: dict[str, Any]
    completed: int
    unanswered: int
    hung: int
    injected: dict[str, int]
    applied_function_faults: dict[str, int]
    fallbacks: int
    realtime_connections: int
    broker_reconnects: int
    broker_restarts: int
    errors: dict[str, int]
    answers: dict[str, int]
    unanswered_faults: dict[str, int]
    published: Counter[Key]
    #: When the device queued each publication (first time), monotonic.
    published_at: dict[Key, float]
    arrivals: dict[Key, list[float]]
    copies: dict[Key, str]
    response_messages: int
    response_cost_nusd: int
    broker_stops: list[float]
    dropped_events: int
    #: Function calls past their deadline before the broker was back: not published, by design.
    expired_events: int
    queue_bound: int
    responses: int
    final_answered: bool
    metrics_nusd: int
    ledger_nusd: int
    start: dict[str, Any]
    tenth: dict[str, Any]
    end: dict[str, Any]
    unexplained: list[str] = field(default_factory=list)
    #: The memory figures of `resources` after each tenth of the run.
    memory_by_tenth: list[dict[str, Any]] = field(default_factory=list)

    def by_tenth(self, key: str) -> list[float]:
        """One memory figure (MB) after each tenth: `rss_mb`, `service_live_mb`, ..."""
        return [m[key] for m in self.memory_by_tenth if m[key] is not None]

    def delivery(self) -> dict[str, int]:
        """Published vs received QoS 1 events: unique, lost, redelivered, unexplained copies."""
        lost = foreign = redelivered = unexplained = 0
        self.unexplained.clear()
        for key, times in self.arrivals.items():
            sent = self.published.get(key, 0)
            if sent == 0:
                foreign += len(times)
                continue
            for extra in sorted(times)[sent:]:
                if _restart_between(self.broker_stops, self.published_at[key], extra):
                    redelivered += 1
                else:
                    unexplained += 1
                    self.unexplained.append(self.copies.get(key, "?"))
        for key, sent in self.published.items():
            lost += max(0, sent - len(self.arrivals.get(key, [])))
        # The same event (payload, `ts` and ids) handed to the outbox twice: the service's copy.
        twice = sum(sent - 1 for sent in self.published.values())
        return {
            "published": sum(self.published.values()),
            "received": sum(len(t) for t in self.arrivals.values()),
            "lost": lost,
            "dropped_by_outbox": self.dropped_events,
            "expired_in_outbox": self.expired_events,
            "foreign": foreign,
            "redelivered_after_restart": redelivered,
            "duplicated_without_restart": unexplained,
            "published_twice_by_service": twice,
        }

    def event_costs(self) -> tuple[int, int]:
        """(how many distinct `event/response` were received, their cost summed in nano-USD)."""
        return self.response_messages, self.response_cost_nusd

    def report(self, broken: list[str]) -> dict[str, Any]:
        """The JSON report."""
        count, nusd = self.event_costs()
        return {
            "conversations": self.conversations,
            "seed": self.seed,
            "elapsed_s": round(self.elapsed_s, 1),
            "machine": self.machine,
            "completed": self.completed,
            "unanswered": self.unanswered,
            "hung": self.hung,
            "final_conversation_answered": self.final_answered,
            "faults_injected": self.injected,
            "function_faults_applied": self.applied_function_faults,
            "fallbacks": self.fallbacks,
            "realtime_connections": self.realtime_connections,
            "broker_restarts": self.broker_restarts,
            "broker_reconnects": self.broker_reconnects,
            "errors": self.errors,
            "answers": self.answers,
            "unanswered_faults": self.unanswered_faults,
            "qos1_events": self.delivery(),
            "queue_bound": self.queue_bound,
            "responses": self.responses,
            "event_response_messages": count,
            "cost_event_response_sum_usd": nusd / 1e9,
            "cost_ledger_total_usd": self.ledger_nusd / 1e9,
            "cost_metrics_total_usd": self.metrics_nusd / 1e9,
            "resources_start": self.start,
            "resources_after_first_tenth": self.tenth,
            "resources_end": self.end,
            "rss_growth_after_first_tenth_mb": round(self.end["rss_mb"] - self.tenth["rss_mb"], 2),
            **{
                f"{key}_by_tenth": [round(mb, 2) for mb in self.by_tenth(key)]
                for key in ("rss_mb", "rss_trimmed_mb", "service_live_mb", "rig_mb")
            },
            "duplicates_without_restart": self.unexplained,
            "broken": broken,
        }


def _restart_between(stops: list[float], first: float, later: float) -> bool:
    i = bisect.bisect_right(stops, first)
    return i < len(stops) and stops[i] < later


def check(f: Figures) -> list[str]:
    """Every invariant that broke, in words (empty: the soak held)."""
    broken = []
    if f.hung:
        broken.append(f"{f.hung} conversations did not get back to idle within their bound")
    if not f.final_answered:
        broken.append("the fault-free conversation after the soak got no answer")
    return broken + _delivery_broken(f) + _cost_broken(f) + _resources_broken(f)


def _delivery_broken(f: Figures) -> list[str]:
    d, broken = f.delivery(), []
    if d["lost"] > d["dropped_by_outbox"] + d["expired_in_outbox"]:
        broken.append(
            f"{d['lost']} QoS 1 events lost; dropped {d['dropped_by_outbox']}, calls expired "
            f"{d['expired_in_outbox']}"
        )
    if d["dropped_by_outbox"]:
        broken.append(f"{d['dropped_by_outbox']} events dropped within the queue bound")
    if d["foreign"]:
        broken.append(f"{d['foreign']} messages received that the device never published")
    if d["duplicated_without_restart"]:
        broken.append(f"{d['duplicated_without_restart']} events duplicated with no restart")
    if d["published_twice_by_service"]:
        broken.append(f"{d['published_twice_by_service']} events published twice by the service")
    return broken


def _cost_broken(f: Figures) -> list[str]:
    count, nusd = f.event_costs()
    broken = []
    if not f.ledger_nusd == f.metrics_nusd == nusd:
        broken.append(
            f"cost: ledger {f.ledger_nusd} nUSD, metrics {f.metrics_nusd}, "
            f"event/response sum {nusd} ({count} messages)"
        )
    if count != f.responses:
        broken.append(f"{f.responses} responses completed but {count} event/response received")
    return broken


def _resources_broken(f: Figures) -> list[str]:
    broken = []
    growth = f.end["rss_mb"] - f.tenth["rss_mb"]
    if growth > RSS_SLACK_MB + RSS_PER_CONVERSATION_MB * f.conversations:
        broken.append(f"RSS grew {growth:.1f} MB after the first tenth")
    if f.end["service_live_mb"] is not None and f.tenth["service_live_mb"] is not None:
        live = f.end["service_live_mb"] - f.tenth["service_live_mb"]
        if live > LIVE_SLACK_MB:
            broken.append(f"the live heap (less the rig's records) grew {live:.2f} MB")
    if f.end["fds"] > f.start["fds"] + FD_SLACK:
        broken.append(f"open fds {f.start['fds']:.0f} at the start, {f.end['fds']:.0f} at the end")
    if f.end["tasks"] > f.start["tasks"] + TASK_SLACK:
        broken.append(f"tasks {f.start['tasks']:.0f} at the start, {f.end['tasks']:.0f} at the end")
    return broken


def table(f: Figures, broken: list[str]) -> str:
    """The figures as a plain-text table, then what broke (or that everything held)."""
    from bench import machine

    d = f.delivery()
    count, nusd = f.event_costs()
    rows = [
        ("conversations", f"{f.conversations} in {f.elapsed_s:.0f} s (seed {f.seed})"),
        ("completed (answered)", f"{f.completed}; unanswered {f.unanswered}; hung {f.hung}"),
        ("faults injected", ", ".join(f"{k} {v}" for k, v in sorted(f.injected.items()))),
        ("fallbacks", str(f.fallbacks)),
        ("realtime connections", str(f.realtime_connections)),
        ("broker restarts / reconnects", f"{f.broker_restarts} / {f.broker_reconnects}"),
        (
            "QoS 1 events published / received",
            f"{d['published']} / {d['received']} (lost {d['lost']}, dropped "
            f"{d['dropped_by_outbox']} of bound {f.queue_bound}, calls expired "
            f"{d['expired_in_outbox']}, redelivered after restart "
            f"{d['redelivered_after_restart']}, duplicated otherwise "
            f"{d['duplicated_without_restart']}, published twice "
            f"{d['published_twice_by_service']})",
        ),
        (
            "cost ledger / event/response sum",
            f"{f.ledger_nusd / 1e9:.6f} / {nusd / 1e9:.6f} USD ({count} responses)",
        ),
        (
            "RSS start / tenth / end",
            f"{f.start['rss_mb']:.1f} / {f.tenth['rss_mb']:.1f} / {f.end['rss_mb']:.1f} MB",
        ),
        ("RSS by tenth", _tenths(f, "rss_mb", 1)),
        ("RSS after malloc_trim by tenth", _tenths(f, "rss_trimmed_mb", 1)),
        ("live heap less rig by tenth", _tenths(f, "service_live_mb", 2)),
        ("rig's records by tenth", _tenths(f, "rig_mb", 2)),
        ("open fds start / end", f"{f.start['fds']:.0f} / {f.end['fds']:.0f}"),
        ("asyncio tasks start / end", f"{f.start['tasks']:.0f} / {f.end['tasks']:.0f}"),
        ("errors published", ", ".join(f"{k} {v}" for k, v in sorted(f.errors.items()))),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"soak on {machine.one_line(f.machine)}"]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    lines += [f"BROKEN: {b}" for b in broken] or ["all invariants held"]
    return "\n".join(lines)


def _tenths(f: Figures, key: str, digits: int) -> str:
    figures = f.by_tenth(key)
    return " ".join(f"{mb:.{digits}f}" for mb in figures) + " MB" if figures else "n/a"


RIG_CODE = (
    "mcp/server",
    "mcp.server",
    "uvicorn",
    "sse_starlette",
    "edge_voice/sim",
    "websockets/asyncio/server",
    "bench/",
    "soak.flow",
)


def resources(rig: tuple[object, ...] = ()) -> dict[str, Any]:
    """RSS (MB) as read and after glibc gives back what it keeps, the live heap (malloc in use
    and Python's objects) less the rig's own records (`rig`), open fds and asyncio tasks."""
    gc.collect()
    names = [_task_name(t) for t in asyncio.all_tasks()]
    rss = proc_rss_mb()
    malloc_trim()
    malloc, rig_mb = malloc_in_use_mb(), deep_size_mb(*rig)
    live = None if malloc is None else malloc + python_heap_mb()
    return {
        "rss_mb": rss,
        "rss_trimmed_mb": proc_rss_mb(),
        "live_mb": live,
        "rig_mb": rig_mb,
        "service_live_mb": None if live is None else live - rig_mb,
        "fds": len(list(Path("/proc/self/fd").iterdir())),
        "tasks": len([n for n in names if n.startswith("service:")]),
        "rig_tasks": len([n for n in names if n.startswith("rig:")]),
        "task_names": dict(Counter(names)),
    }


def progress(done: int, count: int, now: dict[str, Any]) -> str:
    """One line for stderr after each tenth: how far, and the memory figures."""
    live = now["service_live_mb"]
    return (
        f"soak: {done}/{count}, RSS {now['rss_mb']:.1f} MB (trimmed {now['rss_trimmed_mb']:.1f}), "
        f"live heap less the rig's records {'n/a' if live is None else f'{live:.2f}'} MB, "
        f"rig {now['rig_mb']:.2f} MB"
    )


def _task_name(task: asyncio.Task[Any]) -> str:
    """What a task runs, and whose it is: the service's, or the rig's (sim, MCP server, flow)."""
    coro = task.get_coro()
    name = task.get_name()
    what = getattr(coro, "__qualname__", type(coro).__name__)
    code = getattr(coro, "cr_code", None)
    where = code.co_filename if code is not None else ""
    text = f"{name} {what} {where}"
    rig = any(part in text for part in RIG_CODE)
    label = name if not name.startswith("Task-") else what
    return f"{'rig' if rig else 'service'}:{label}"
