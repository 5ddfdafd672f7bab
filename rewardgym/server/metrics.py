"""Prometheus metrics of the gateway, in a registry of its own (no process-global state)."""

from __future__ import annotations

from typing import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from rewardgym.protocol import Status
from rewardgym.server.runtimes.base import WorkerHandle

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class GatewayMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.items = Counter("rewardgym_items", "Items scored, by environment and status",
                             ["env", "status"], registry=self.registry)
        self.request_seconds = Histogram("rewardgym_request_seconds", "Wall time of POST /score requests",
                                         ["env"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.inflight = Gauge("rewardgym_inflight_items", "Items admitted and not yet answered, by worker",
                              ["worker"], registry=self.registry)
        self.queue_depth = Gauge("rewardgym_queue_depth", "Admitted items waiting for a scoring process, by worker",
                                 ["worker"], registry=self.registry)
        self.worker_items = Counter("rewardgym_worker_items", "Items sent to each worker (replicas share load)",
                                    ["worker"], registry=self.registry)
        self.worker_up = Gauge("rewardgym_worker_up", "1 when the worker is ready", ["worker"],
                               registry=self.registry)
        self.worker_restarts = Gauge("rewardgym_worker_restarts", "Times the worker was restarted", ["worker"],
                                     registry=self.registry)

    def count_statuses(self, env: str, counts: dict[Status, int]) -> None:
        """Count a request's results by status (the worker sends the counts in a header; see protocol.py)."""
        for status, count in counts.items():
            self.items.labels(env, status.value).inc(count)

    def observe_workers(self, handles: Iterable[WorkerHandle]) -> None:
        for handle in handles:
            self.inflight.labels(handle.name).set(handle.inflight_items)
            self.queue_depth.labels(handle.name).set(max(0, handle.inflight_items - handle.processes))
            self.worker_up.labels(handle.name).set(1 if handle.state == "ready" else 0)
            self.worker_restarts.labels(handle.name).set(handle.restarts)

    def render(self) -> bytes:
        return generate_latest(self.registry)
