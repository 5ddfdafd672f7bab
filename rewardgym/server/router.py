"""Which workers serve which environment: the gateway's routing table, rebuilt when a worker's state changes."""

from __future__ import annotations

import logging
from typing import Sequence

from rewardgym.http import HTTPProblem
from rewardgym.protocol import EnvInfo
from rewardgym.server.runtimes.base import Runtime, WorkerHandle

log = logging.getLogger("rewardgym.gateway")


class Router:
    """Environment name -> the workers that host it, rebuilt whenever a worker's state changes."""

    def __init__(self, runtimes: Sequence[Runtime]) -> None:
        self.runtimes = list(runtimes)
        self.routes: dict[str, list[WorkerHandle]] = {}
        self.catalogue: dict[str, EnvInfo] = {}
        self._clashes: set[tuple[str, str]] = set()

    def rebuild(self) -> None:
        """Recompute routes. An environment keeps the family that served it first: a newcomer serving the same
        name is refused (and reported), never allowed to take over its traffic."""
        previous = {name: handles[0].family for name, handles in self.routes.items() if handles}
        offers: dict[str, list[tuple[WorkerHandle, EnvInfo]]] = {}
        for handle in self.handles():
            for env in handle.envs:
                offers.setdefault(env.name, []).append((handle, env))
        routes: dict[str, list[WorkerHandle]] = {}
        catalogue: dict[str, EnvInfo] = {}
        for name, offered in offers.items():
            families = [handle.family for handle, _ in offered]
            owner = previous[name] if previous.get(name) in families else families[0]
            for other in sorted(set(families) - {owner}):
                if (name, other) not in self._clashes:
                    self._clashes.add((name, other))
                    log.error("environment %s is served by both %s and %s; keeping %s", name, owner, other, owner)
            routes[name] = [handle for handle, _ in offered if handle.family == owner]
            catalogue[name] = next(env for handle, env in offered if handle.family == owner)
        self.routes, self.catalogue = routes, catalogue

    def handles(self) -> list[WorkerHandle]:
        return [handle for runtime in self.runtimes for handle in runtime.handles]

    def missing(self) -> list[str]:
        """What is not ready yet, over all runtimes (empty: every expected worker serves)."""
        return [item for runtime in self.runtimes for item in runtime.missing()]

    def status(self, env: str) -> str:
        return "ready" if any(h.state == "ready" for h in self.routes.get(env, [])) else "starting"

    def pick(self, env: str, exclude: WorkerHandle | None = None) -> WorkerHandle:
        """The ready worker of `env` with the fewest outstanding items per scoring process (replicas share load)."""
        handles = self.routes.get(env)
        if not handles:
            raise HTTPProblem(404, f"Unknown environment {env!r}", known_envs=sorted(self.routes))
        ready = [h for h in handles if h.state == "ready" and h is not exclude]
        if not ready:
            raise HTTPProblem(503, f"Environment {env!r} is not ready (its worker is starting)",
                              headers={"Retry-After": "2"})
        return min(ready, key=lambda h: h.inflight_items / max(h.processes, 1))
