"""Live statistics of the gateway for people (`GET /v1/stats`, drawn by `/dashboard`): per environment, items per
second and the status mix over the last minutes and request latency percentiles; the most recent failed items.

Kept in per-second buckets of a fixed window, so memory is bounded whatever the load, and recording a request is
a few dictionary updates. Failed items are read from a worker's answer only when its status counts say there are
some (the body is not parsed otherwise); their messages are cut short and completions are never kept.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rewardgym.protocol import Status, body_results

WINDOW_S = 300
"""How far back the charts go."""
RECENT_FAILURES = 20
MESSAGE_CHARS = 300
LATENCY_SAMPLES_PER_SECOND = 64
"""Request latencies kept per second and environment (the first ones of that second): enough for p50/p99 of a
dashboard, bounded under any load."""
FAILED_STATUSES = (Status.ERROR.value, Status.TIMEOUT.value)


@dataclass
class _Second:
    at: int
    statuses: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)


class GatewayStats:
    def __init__(self, clock=time.time) -> None:
        self.clock = clock
        self.started = clock()
        self._seconds: dict[str, deque[_Second]] = {}
        self.failures: deque[dict[str, Any]] = deque(maxlen=RECENT_FAILURES)

    def record(self, env: str, counts: dict[Status, int]) -> None:
        """The results of one answered scoring request, by status."""
        second = self._second(env)
        for status, count in counts.items():
            second.statuses[status.value] = second.statuses.get(status.value, 0) + count

    def record_latency(self, env: str, latency_s: float) -> None:
        second = self._second(env)
        if len(second.latencies_ms) < LATENCY_SAMPLES_PER_SECOND:
            second.latencies_ms.append(latency_s * 1000)

    def record_failures(self, env: str, body: dict[str, Any] | bytes) -> None:
        """Keep the `error`/`timeout` results of an answer (id, status, the start of the message)."""
        if isinstance(body, bytes):
            try:
                body = json.loads(body)
            except ValueError:
                return
        for result in body_results(body) if isinstance(body, dict) else []:
            if result.get("status") in FAILED_STATUSES:
                message = str(result.get("details", {}).get("message", ""))[:MESSAGE_CHARS]
                self.failures.appendleft({"time": round(self.clock(), 3), "env": env, "id": result.get("id"),
                                          "status": result["status"], "message": message})

    def snapshot(self) -> dict[str, Any]:
        """The JSON of `GET /v1/stats`: per environment, one row per second of the window (oldest first)."""
        now = int(self.clock())
        envs = {}
        for env, seconds in sorted(self._seconds.items()):
            self._expire(seconds, now)
            series = []
            by_second = {second.at: second for second in seconds}
            for at in range(now - WINDOW_S + 1, now + 1):
                second = by_second.get(at)
                row: dict[str, Any] = {"t": at}
                if second:
                    ordered = sorted(second.latencies_ms)
                    row.update(second.statuses, p50_ms=_percentile(ordered, 50), p99_ms=_percentile(ordered, 99))
                series.append(row)
            latencies = sorted(ms for second in seconds for ms in second.latencies_ms)
            totals: dict[str, int] = {}
            for second in seconds:
                for status, count in second.statuses.items():
                    totals[status] = totals.get(status, 0) + count
            recent = [s for s in seconds if s.at > now - 60]
            envs[env] = {
                "items_per_s_last_minute": round(sum(sum(s.statuses.values()) for s in recent) / 60, 3),
                "statuses": totals,
                "latency_ms": {"p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99)},
                "series": series,
            }
        return {"now": now, "window_s": WINDOW_S, "uptime_s": round(self.clock() - self.started, 1),
                "envs": envs, "recent_failures": list(self.failures)}

    def _second(self, env: str) -> _Second:
        now = int(self.clock())
        seconds = self._seconds.setdefault(env, deque())
        if not seconds or seconds[-1].at != now:
            seconds.append(_Second(now))
            self._expire(seconds, now)
        return seconds[-1]

    @staticmethod
    def _expire(seconds: deque[_Second], now: int) -> None:
        while seconds and seconds[0].at <= now - WINDOW_S:
            seconds.popleft()


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))], 2)


_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}, "description": "results by status"}
STATS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["now", "window_s", "uptime_s", "envs", "recent_failures", "catalogue", "workers"],
    "properties": {
        "now": {"type": "integer", "description": "server time, Unix seconds"},
        "window_s": {"type": "integer"},
        "uptime_s": {"type": "number"},
        "envs": {"type": "object", "description": "per environment that has served requests", "additionalProperties": {
            "type": "object",
            "properties": {
                "items_per_s_last_minute": {"type": "number"},
                "statuses": _COUNTS,
                "latency_ms": {"type": "object", "properties": {"p50": {"type": ["number", "null"]},
                                                                "p99": {"type": ["number", "null"]}}},
                "series": {"type": "array", "description": "one entry per second of the window, oldest first: "
                                                           "t, counts by status, p50_ms, p99_ms",
                           "items": {"type": "object"}},
            }}},
        "recent_failures": {"type": "array", "items": {"type": "object", "properties": {
            "time": {"type": "number"}, "env": {"type": "string"}, "id": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": list(FAILED_STATUSES)}, "message": {"type": "string"}}}},
        "catalogue": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "family": {"type": "string"}, "version": {"type": "string"}, "status": {"type": "string"},
            "replicas": {"type": "integer"}}}},
        "workers": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "family": {"type": "string"}, "state": {"type": "string"},
            "processes": {"type": "integer"}, "inflight_items": {"type": "integer"},
            "queued_items": {"type": "integer"}, "restarts": {"type": "integer"}, "last_error": {"type": "string"}}}},
    },
}
STATS_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "Live statistics for the dashboard (the last five minutes, per second)",
    "content": {"application/json": {"schema": STATS_SCHEMA}},
}}
