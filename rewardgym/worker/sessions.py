"""Multi-turn sessions in the worker: the session store, and each step run in the scoring pool.

A session is kept as (env, seed, options, the actions played so far, the answers recorded per `request_id`); no
game object lives here. Each step is a `StepJob` that replays the actions plus the new one in any scoring process,
under the same hard deadline as scoring, so:

- a step killed at its deadline (or failing) leaves the session as it was: actions change only when a step succeeds;
- a step sent again with the same `request_id` gets the recorded answer, and the game is not advanced twice;
- a session is only in this process's memory, so its id starts with this process's instance id: an id of an
  earlier run of the worker answers 410 (the game is gone), never a new game.

Sessions idle for `ttl_s` are forgotten (swept on every call, oldest first); past `max_sessions` live sessions a new
one is refused with 429 and a `Retry-After` of when the idlest expires.
"""

from __future__ import annotations

import asyncio
import collections
import math
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError

from rewardgym.http import HTTPProblem, json_response, read_json
from rewardgym.multiturn import MAX_ACTIONS
from rewardgym.protocol import (
    SessionRequest,
    Status,
    StepRequest,
    StepsRequest,
    describe_validation_error,
    item_deadline_s,
)
from rewardgym.worker.jobs import StepJob
from rewardgym.worker.pool import ItemPool
from rewardgym.worker.scoring import FamilyScorer
from rewardgym.worker.stepping import EPISODE_OVER

TTL_ENV_VAR = "REWARDGYM_SESSION_TTL_S"
MAX_SESSIONS_ENV_VAR = "REWARDGYM_MAX_SESSIONS"
KEPT_ANSWERS = 64
"""Answers kept whole per session; an older `request_id` sent again has its answer rebuilt by replay."""
STEP_FIELDS = ("observation", "reward", "terminated", "truncated", "info")
_SESSION_ID = re.compile(r"[0-9a-f]{12}-[0-9a-f]{24}")


@dataclass(frozen=True)
class SessionSettings:
    ttl_s: float = 600.0
    """A session not used for this long is forgotten."""
    max_sessions: int = 10_000
    """Live sessions per worker; past it, a new session is refused with 429."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> "SessionSettings":
        """Settings from `$REWARDGYM_SESSION_TTL_S` and `$REWARDGYM_MAX_SESSIONS` (defaults where unset)."""
        ttl = environ.get(TTL_ENV_VAR)
        cap = environ.get(MAX_SESSIONS_ENV_VAR)
        try:
            settings = cls(ttl_s=float(ttl) if ttl else cls.ttl_s, max_sessions=int(cap) if cap else cls.max_sessions)
        except ValueError as exc:
            raise ValueError(f"Expected a number of seconds in ${TTL_ENV_VAR} and an integer in "
                             f"${MAX_SESSIONS_ENV_VAR}, got {ttl!r} and {cap!r}") from exc
        if not (settings.ttl_s > 0 and math.isfinite(settings.ttl_s)) or settings.max_sessions < 1:
            raise ValueError(f"Expected a positive TTL and session cap, got {settings.ttl_s} s and "
                             f"{settings.max_sessions}")
        return settings


@dataclass
class Recorded:
    """What a `request_id` did: the action it played, the step number it became, and its answer while kept."""

    action: str
    step: int
    answer: dict[str, Any] | None


@dataclass
class Session:
    env: str
    env_version: str
    seed: int
    options: dict[str, Any]
    last: dict[str, Any]
    """The latest step's value (`STEP_FIELDS` and `total_reward`); at first, the game's start."""
    used_at: float
    actions: list[str] = field(default_factory=list)
    recorded: dict[str, Recorded] = field(default_factory=dict)
    kept: collections.deque[str] = field(default_factory=collections.deque)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False

    @property
    def done(self) -> bool:
        return bool(self.last["terminated"] or self.last["truncated"])

    def record(self, request_id: str, action: str, answer: dict[str, Any]) -> None:
        self.recorded[request_id] = Recorded(action, len(self.actions), answer)
        self.kept.append(request_id)
        if len(self.kept) > KEPT_ANSWERS:
            self.recorded[self.kept.popleft()].answer = None


class SessionStore:
    """Live sessions by id, least recently used first, with the TTL and the cap."""

    def __init__(self, settings: SessionSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.instance = secrets.token_hex(6)
        """This run of the worker: the prefix of every session id it hands out."""
        self._sessions: collections.OrderedDict[str, Session] = collections.OrderedDict()
        self._reserved = 0

    def __len__(self) -> int:
        return len(self._sessions)

    def sweep(self) -> None:
        """Forget sessions idle past the TTL (the oldest are first, so this stops at the first live one)."""
        expired_before = self.clock() - self.settings.ttl_s
        while self._sessions:
            session_id, session = next(iter(self._sessions.items()))
            if session.used_at > expired_before:
                return
            del self._sessions[session_id]
            session.closed = True

    def reserve(self) -> None:
        """Hold a place for a session being started, or refuse (429) when the cap is reached."""
        self.sweep()
        if len(self._sessions) + self._reserved >= self.settings.max_sessions:
            oldest = next(iter(self._sessions.values()), None)
            wait = oldest.used_at + self.settings.ttl_s - self.clock() if oldest else 1.0
            raise HTTPProblem(429, f"Expected at most {self.settings.max_sessions} live sessions on this worker, "
                              "and all are in use: delete finished sessions (DELETE /v1/sessions/{id})",
                              headers={"Retry-After": str(max(1, math.ceil(wait)))})
        self._reserved += 1

    def release(self) -> None:
        self._reserved -= 1

    def add(self, session: Session) -> str:
        """Store a session started under a reservation; returns its new id."""
        self._reserved -= 1
        session_id = f"{self.instance}-{secrets.token_hex(12)}"
        self._sessions[session_id] = session
        return session_id

    def get(self, session_id: str, use: bool = True) -> Session:
        """The live session (counted as used unless `use` is false), 410 for one of an earlier run of this worker,
        else 404."""
        self.sweep()
        session = self._sessions.get(session_id)
        if session is None:
            if _SESSION_ID.fullmatch(session_id) and not session_id.startswith(self.instance):
                raise HTTPProblem(410, "Session is gone: the worker that held it restarted (this is a new run of "
                                  "it), and its game cannot be recovered; start a new session")
            raise HTTPProblem(404, f"Unknown session: never started, deleted, or expired after "
                              f"{self.settings.ttl_s:g} s idle")
        if use:
            self.touch(session_id, session)
        return session

    def touch(self, session_id: str, session: Session) -> None:
        if not session.closed:
            session.used_at = self.clock()
            self._sessions.move_to_end(session_id)

    def remove(self, session_id: str) -> None:
        self._sessions.pop(session_id).closed = True


class SessionService:
    """The session routes of the worker protocol, over a `SessionStore` and the family's scoring pool."""

    def __init__(self, scorer: FamilyScorer, pool: ItemPool, store: SessionStore) -> None:
        self.scorer = scorer
        self.pool = pool
        self.store = store

    async def create(self, env: str, body: Any) -> dict[str, Any]:
        if env not in self.scorer.envs:
            raise HTTPProblem(404, f"Unknown environment {env!r} in family {self.scorer.family.name!r}",
                              known_envs=sorted(self.scorer.envs))
        info = self.scorer.catalogue[env]
        if info.kind != "multi":
            raise HTTPProblem(422, f"Expected a multi-turn environment, got {env!r}, which is single-turn: score "
                              f"its completions with POST /score/{env}")
        request = _validate(SessionRequest, body, "session request")
        try:
            task = self.scorer.envs[env].parse_task({"seed": request.seed, "options": request.options})
        except ValidationError as exc:
            raise HTTPProblem(422, describe_validation_error(exc, f"{env} session")) from exc
        options = task.options.model_dump(mode="json")  # type: ignore[attr-defined]
        self.store.reserve()
        try:
            start = await self.run(StepJob(env, request.seed, options, []), env, "start")
            session = Session(env, info.version, request.seed, options, start, self.store.clock())
        except BaseException:
            self.store.release()
            raise
        session_id = self.store.add(session)
        return {"session_id": session_id, "env": env, "env_version": info.version,
                "observation": start["observation"], "info": start["info"]}

    async def steps(self, body: Any) -> dict[str, Any]:
        """One step in each of many sessions; each result is the step's answer or its own error."""
        request = _validate(StepsRequest, body, "steps request")
        return {"results": await asyncio.gather(*(self.step_result(item.session_id, item) for item in request.steps))}

    async def step_result(self, session_id: str, request: StepRequest) -> dict[str, Any]:
        try:
            return {"status": 200, **await self.step(session_id, request)}
        except HTTPProblem as exc:
            return {"status": exc.status, "detail": exc.message}

    async def step(self, session_id: str, request: StepRequest) -> dict[str, Any]:
        session = self.store.get(session_id)
        async with session.lock:  # one step at a time per session; a retry waits, then finds its answer
            if session.closed:
                raise HTTPProblem(404, "Unknown session: it was deleted or expired while this step waited")
            if request.request_id is not None and request.request_id in session.recorded:
                return await self.recorded_answer(session, request.request_id, request.action)
            if session.done:
                how = "terminated" if session.last["terminated"] else "truncated"
                raise HTTPProblem(409, f"The episode is over ({how} after {len(session.actions)} steps): start a "
                                  "new session")
            if len(session.actions) >= MAX_ACTIONS:
                raise HTTPProblem(409, f"Expected at most {MAX_ACTIONS} steps per session, got one more")
            actions = [*session.actions, request.action]
            value = await self.run(StepJob(session.env, session.seed, session.options, actions), session.env,
                                   f"step {len(actions)}")
            session.actions, session.last = actions, value
            answer = {key: value[key] for key in STEP_FIELDS}
            if request.request_id is not None:
                session.record(request.request_id, request.action, answer)
            self.store.touch(session_id, session)
            return answer

    async def recorded_answer(self, session: Session, request_id: str, action: str) -> dict[str, Any]:
        recorded = session.recorded[request_id]
        if recorded.action != action:
            raise HTTPProblem(409, f"request_id {request_id!r} was step {recorded.step} with action "
                              f"{recorded.action!r}; expected the same action again, got {action!r}")
        if recorded.answer is None:  # deterministic: replaying the same actions gives the same answer
            value = await self.run(StepJob(session.env, session.seed, session.options,
                                           session.actions[:recorded.step]), session.env, f"step {recorded.step}")
            return {key: value[key] for key in STEP_FIELDS}
        return recorded.answer

    def state(self, session_id: str) -> dict[str, Any]:
        """Where the game stands; looking does not count as using the session (its idle time keeps running)."""
        session = self.store.get(session_id, use=False)
        idle = self.store.clock() - session.used_at
        return {
            "env": session.env, "env_version": session.env_version, "seed": session.seed,
            "options": session.options, "actions": list(session.actions),
            **{key: session.last[key] for key in (*STEP_FIELDS, "total_reward")},
            "idle_s": round(idle, 3), "expires_in_s": round(max(0.0, self.store.settings.ttl_s - idle), 3),
        }

    def delete(self, session_id: str) -> dict[str, Any]:
        """Forget the session; the answer is its final state (its transcript, for scoring or logging)."""
        final = self.state(session_id)
        self.store.remove(session_id)
        return final

    async def run(self, job: StepJob, env: str, what: str) -> dict[str, Any]:
        """Run one step in the pool under the scoring deadline; a failed step raises and changes nothing."""
        deadline = item_deadline_s(None, self.scorer.catalogue[env])
        outcome = await self.pool.submit(job, deadline)
        if outcome.status is Status.OK:
            return outcome.value
        message = outcome.value.get("message", "")
        if outcome.value.get(EPISODE_OVER):
            raise HTTPProblem(409, f"The episode is over: {message}")
        if outcome.status is Status.INVALID_TASK:
            raise HTTPProblem(422, message)
        unchanged = "it was not played and the session is unchanged" if what != "start" else "no session was started"
        if outcome.status is Status.TIMEOUT:
            raise HTTPProblem(504, f"{env} {what} exceeded its deadline of {deadline:g} s: {unchanged}")
        raise HTTPProblem(500, f"{env} {what} failed ({message}): {unchanged}")


def install_session_routes(app: FastAPI, scorer: FamilyScorer, pool: ItemPool, max_body_bytes: int,
                           settings: SessionSettings | None = None) -> SessionService:
    """Add the sessions routes of the worker protocol to a worker app."""
    service = SessionService(scorer, pool, SessionStore(settings or SessionSettings.from_environ()))

    async def create(env: str, request: Request) -> Response:
        return json_response(await service.create(env, await read_json(request, max_body_bytes)))

    async def step(session_id: str, request: Request) -> Response:
        step_request = _validate(StepRequest, await read_json(request, max_body_bytes), "step request")
        return json_response(await service.step(session_id, step_request))

    async def steps(request: Request) -> Response:
        return json_response(await service.steps(await read_json(request, max_body_bytes)))

    async def state(session_id: str) -> Response:
        return json_response(service.state(session_id))

    async def delete(session_id: str) -> Response:
        return json_response(service.delete(session_id))

    app.add_api_route("/v1/envs/{env}/sessions", create, methods=["POST"])
    app.add_api_route("/v1/sessions/{session_id}/step", step, methods=["POST"])
    app.add_api_route("/v1/sessions/steps", steps, methods=["POST"])
    app.add_api_route("/v1/sessions/{session_id}", state, methods=["GET"])
    app.add_api_route("/v1/sessions/{session_id}", delete, methods=["DELETE"])
    return service


def _validate(model: Any, body: Any, what: str) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise HTTPProblem(422, describe_validation_error(exc, what)) from exc
