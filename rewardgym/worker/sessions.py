"""Multi-turn sessions in the worker: the session routes of the worker protocol, each step run in the scoring pool.

The session (session_store.py) keeps (env, seed, options, actions, recorded answers). Each step is a `StepJob`
carrying all of that plus the new action, so any scoring process can serve it: the one that served the session's
last step is preferred (it most likely holds the game open and plays one move), any other rebuilds the game by
replay (stepping.py). Under the same hard deadline as scoring:

- a step killed at its deadline (or failing) leaves the session as it was: actions change only when a step succeeds;
- a step sent again with the same `request_id` gets the recorded answer, and the game is not advanced twice.

The batched routes (`/v1/sessions/starts`, `/steps`, `/deletes`) take many sessions in one request, each answered
with its own status; the gateway sends them public session ids (`<its key of this worker>-<id>`), which are taken
as the ids here.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Awaitable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError

from rewardgym.http import HTTPProblem, json_response, read_json
from rewardgym.multiturn import MAX_ACTIONS
from rewardgym.protocol import (
    DeletesRequest,
    SessionRequest,
    StartsRequest,
    Status,
    StepRequest,
    StepsRequest,
    describe_validation_error,
    item_deadline_s,
)
from rewardgym.worker.jobs import Outcome, StepJob
from rewardgym.worker.pool import ItemPool
from rewardgym.worker.scoring import FamilyScorer
from rewardgym.worker.session_store import GATEWAY_KEY_CHARS, Session, SessionSettings, SessionStore
from rewardgym.worker.stepping import EPISODE_OVER, OPEN_GAME

__all__ = ["Session", "SessionService", "SessionSettings", "SessionStore", "install_session_routes"]

STEP_FIELDS = ("observation", "reward", "terminated", "truncated", "info")
_PREFIX = re.compile(r"[0-9a-f]{%d}" % GATEWAY_KEY_CHARS)


class SessionService:
    """The session routes of the worker protocol, over a `SessionStore` and the family's scoring pool.

    A batch (`starts`, `steps`) submits all its jobs to the pool before it waits for any, so its steps run side by
    side in every scoring process, with no task per step; a session that another request is stepping waits its
    turn after the rest of the batch."""

    def __init__(self, scorer: FamilyScorer, pool: ItemPool, store: SessionStore) -> None:
        self.scorer = scorer
        self.pool = pool
        self.store = store
        self.steps_on_open_games = 0
        """Steps played on the game their scoring process held open (live_sessions.py)."""
        self.steps_rebuilt = 0
        """Steps whose game was rebuilt by replay (another process served it, or it had dropped the game)."""

    def stats(self) -> dict[str, int]:
        """For the worker's /healthz: live sessions, and how their steps were served."""
        return {"live": len(self.store), "steps_on_open_games": self.steps_on_open_games,
                "steps_rebuilt": self.steps_rebuilt}

    async def create(self, env: str, body: Any) -> dict[str, Any]:
        job = self.start_job(env, _validate(SessionRequest, body, "session request"))
        self.store.reserve()
        try:
            outcome = await self.pool.submit(job, self.deadline(env))
        except BaseException:
            self.store.release()
            raise
        return self.started(job, outcome, "")

    async def starts(self, body: Any, prefix: str = "") -> dict[str, Any]:
        """Many sessions started at once, all their jobs in the pool together; each result is the session's start
        or its own error. `prefix`: the gateway's key of this worker, put before the ids handed out."""
        request = _validate(StartsRequest, body, "starts request")
        results: list[dict[str, Any]] = [{} for _ in request.starts]
        pending = []
        for index, item in enumerate(request.starts):
            try:
                job = self.start_job(item.env, item)
                self.store.reserve()
            except HTTPProblem as exc:
                results[index] = _failure(exc)
                continue
            pending.append((index, job, self.pool.submit(job, self.deadline(item.env))))
        try:
            outcomes = await asyncio.gather(*(future for *_, future in pending))
        except BaseException:
            for _ in pending:
                self.store.release()
            raise
        for (index, job, _), outcome in zip(pending, outcomes):
            try:
                results[index] = {"status": 200, **self.started(job, outcome, prefix)}
            except HTTPProblem as exc:
                results[index] = _failure(exc)
        return {"results": results}

    def started(self, job: StepJob, outcome: Outcome, prefix: str) -> dict[str, Any]:
        """The session a start's outcome made, stored under its reservation; a failed start releases it (raises)."""
        try:
            start = self.value(outcome, job.env, "start")
        except HTTPProblem:
            self.store.release()
            raise
        info = self.scorer.catalogue[job.env]
        session_id = self.store.add(Session(job.env, info.version, job.seed, job.options, start, self.store.clock(),
                                            slot=outcome.slot))
        return {"session_id": f"{prefix}-{session_id}" if prefix else session_id, "env": job.env,
                "env_version": info.version, "observation": start["observation"], "info": start["info"]}

    def start_job(self, env: str, request: SessionRequest) -> StepJob:
        """The job that starts a game of `env` (with no actions), once the request is checked (404, 422)."""
        if env not in self.scorer.envs:
            raise HTTPProblem(404, f"Unknown environment {env!r} in family {self.scorer.family.name!r}",
                              known_envs=sorted(self.scorer.envs))
        if self.scorer.catalogue[env].kind != "multi":
            raise HTTPProblem(422, f"Expected a multi-turn environment, got {env!r}, which is single-turn: score "
                              f"its completions with POST /score/{env}")
        try:
            task = self.scorer.envs[env].parse_task({"seed": request.seed, "options": request.options})
        except ValidationError as exc:
            raise HTTPProblem(422, describe_validation_error(exc, f"{env} session")) from exc
        return StepJob(env, request.seed, task.options.model_dump(mode="json"), [])  # type: ignore[attr-defined]

    async def steps(self, body: Any) -> dict[str, Any]:
        """One step in each of many sessions; each result is the step's answer or its own error.

        A session free now is claimed (its lock taken, without waiting) and its job submitted; one already being
        stepped (by another request, or earlier in this batch) is stepped afterwards, in request order."""
        request = _validate(StepsRequest, body, "steps request")
        results: list[dict[str, Any]] = [{} for _ in request.steps]
        claimed: list[tuple[int, Session, StepRequest, StepJob, asyncio.Future[Outcome]]] = []
        later: list[int] = []
        try:
            for index, item in enumerate(request.steps):
                try:
                    session = self.store.get(item.session_id)
                except HTTPProblem as exc:
                    results[index] = _failure(exc)
                    continue
                if session.lock.locked():
                    later.append(index)
                    continue
                await session.lock.acquire()  # free: taken at once, never waits
                try:
                    prepared = self.prepare(session, item)
                except HTTPProblem as exc:
                    session.lock.release()
                    results[index] = _failure(exc)
                    continue
                if isinstance(prepared, StepJob):
                    claimed.append((index, session, item, prepared, self.submit(session, prepared)))
                else:
                    session.lock.release()
                    if prepared is None:  # a retry whose answer must be rebuilt
                        later.append(index)
                    else:
                        results[index] = {"status": 200, **prepared}
            outcomes = await asyncio.gather(*(future for *_, future in claimed))
            for (index, session, item, job, _), outcome in zip(claimed, outcomes):
                try:
                    results[index] = {"status": 200, **self.finish(session, item, job, outcome)}
                except HTTPProblem as exc:
                    results[index] = _failure(exc)
        finally:
            for _, session, *_ in claimed:
                session.lock.release()
        if later:
            answers = await asyncio.gather(*(_result(self.step(request.steps[index].session_id, request.steps[index]))
                                             for index in later))
            for index, answer in zip(later, answers):
                results[index] = answer
        return {"results": results}

    async def step(self, session_id: str, request: StepRequest) -> dict[str, Any]:
        session = self.store.get(session_id)
        async with session.lock:  # one step at a time per session; a retry waits, then finds its answer
            prepared = self.prepare(session, request)
            if prepared is None:
                return await self.rebuilt_answer(session, request.request_id)  # type: ignore[arg-type]
            if not isinstance(prepared, StepJob):
                return prepared
            return self.finish(session, request, prepared, await self.submit(session, prepared))

    def prepare(self, session: Session, request: StepRequest) -> StepJob | dict[str, Any] | None:
        """What a step of a locked session needs: a job to run, the recorded answer of a retry, or None for a retry
        whose answer must be rebuilt (`rebuilt_answer`); 404, 409 where the step cannot be played."""
        if session.closed:
            raise HTTPProblem(404, "Unknown session: it was deleted or expired while this step waited")
        if request.request_id is not None and request.request_id in session.recorded:
            recorded = session.recorded[request.request_id]
            if recorded.action != request.action:
                raise HTTPProblem(409, f"request_id {request.request_id!r} was step {recorded.step} with action "
                                  f"{recorded.action!r}; expected the same action again, got {request.action!r}")
            return recorded.answer
        if session.done:
            how = "terminated" if session.last["terminated"] else "truncated"
            raise HTTPProblem(409, f"The episode is over ({how} after {len(session.actions)} steps): start a new "
                              "session")
        if len(session.actions) >= MAX_ACTIONS:
            raise HTTPProblem(409, f"Expected at most {MAX_ACTIONS} steps per session, got one more")
        return StepJob(session.env, session.seed, session.options, [*session.actions, request.action])

    def finish(self, session: Session, request: StepRequest, job: StepJob, outcome: Outcome) -> dict[str, Any]:
        """The session after its step's outcome: advanced and recorded when it succeeded, else unchanged (raises)."""
        value = self.value(outcome, session.env, f"step {len(job.actions)}")
        session.actions, session.last, session.slot = job.actions, value, outcome.slot
        if value.get(OPEN_GAME):
            self.steps_on_open_games += 1
        else:
            self.steps_rebuilt += 1
        answer = {key: value[key] for key in STEP_FIELDS}
        if request.request_id is not None:
            session.record(request.request_id, request.action, answer)
        self.store.touch(session)
        return answer

    async def rebuilt_answer(self, session: Session, request_id: str) -> dict[str, Any]:
        """A retry's answer no longer kept whole: deterministic, so replaying the same actions gives it again."""
        step = session.recorded[request_id].step
        job = StepJob(session.env, session.seed, session.options, session.actions[:step])
        value = self.value(await self.submit(session, job), session.env, f"step {step}")
        return {key: value[key] for key in STEP_FIELDS}

    def deletes(self, body: Any) -> dict[str, Any]:
        """Many sessions forgotten at once; each result is the session's final state (with the id as sent) or its
        own error."""
        request = _validate(DeletesRequest, body, "deletes request")
        results = []
        for session_id in request.session_ids:
            try:
                results.append({"status": 200, "session_id": session_id, **self.delete(session_id)})
            except HTTPProblem as exc:
                results.append(_failure(exc))
        return {"results": results}

    def state(self, session_id: str) -> dict[str, Any]:
        """Where the game stands; looking does not count as using the session (its idle time keeps running)."""
        return self.state_of(self.store.get(session_id, use=False))

    def state_of(self, session: Session) -> dict[str, Any]:
        idle = self.store.clock() - session.used_at
        return {
            "env": session.env, "env_version": session.env_version, "seed": session.seed,
            "options": session.options, "actions": list(session.actions),
            **{key: session.last[key] for key in (*STEP_FIELDS, "total_reward")},
            "idle_s": round(idle, 3), "expires_in_s": round(max(0.0, self.store.settings.ttl_s - idle), 3),
        }

    def delete(self, session_id: str) -> dict[str, Any]:
        """Forget the session; the answer is its final state (its transcript, for scoring or logging)."""
        session = self.store.get(session_id, use=False)
        final = self.state_of(session)
        self.store.remove(session)
        return final

    def deadline(self, env: str) -> float:
        return item_deadline_s(None, self.scorer.catalogue[env])

    def submit(self, session: Session, job: StepJob) -> "asyncio.Future[Outcome]":
        """Queue a step of `session` in the pool, preferring the scoring process that served its last step (where
        its game is likely still open); any process can serve it."""
        return self.pool.submit(job, self.deadline(session.env), slot_hint=session.slot)

    def value(self, outcome: Outcome, env: str, what: str) -> dict[str, Any]:
        """A step's value, or the HTTP problem it became; a failed step changes nothing."""
        if outcome.status is Status.OK:
            return outcome.value
        message = outcome.value.get("message", "")
        if outcome.value.get(EPISODE_OVER):
            raise HTTPProblem(409, f"The episode is over: {message}")
        if outcome.status is Status.INVALID_TASK:
            raise HTTPProblem(422, message)
        unchanged = "it was not played and the session is unchanged" if what != "start" else "no session was started"
        if outcome.status is Status.TIMEOUT:
            raise HTTPProblem(504, f"{env} {what} exceeded its deadline of {self.deadline(env):g} s: {unchanged}")
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

    async def starts(request: Request) -> Response:
        prefix = request.query_params.get("prefix", "")
        if prefix and not _PREFIX.fullmatch(prefix):
            raise HTTPProblem(422, f"Expected a prefix of {GATEWAY_KEY_CHARS} hex digits, got {prefix[:20]!r}")
        return json_response(await service.starts(await read_json(request, max_body_bytes), prefix))

    async def steps(request: Request) -> Response:
        return json_response(await service.steps(await read_json(request, max_body_bytes)))

    async def deletes(request: Request) -> Response:
        return json_response(service.deletes(await read_json(request, max_body_bytes)))

    async def state(session_id: str) -> Response:
        return json_response(service.state(session_id))

    async def delete(session_id: str) -> Response:
        return json_response(service.delete(session_id))

    app.add_api_route("/v1/envs/{env}/sessions", create, methods=["POST"])
    app.add_api_route("/v1/sessions/{session_id}/step", step, methods=["POST"])
    app.add_api_route("/v1/sessions/starts", starts, methods=["POST"])
    app.add_api_route("/v1/sessions/steps", steps, methods=["POST"])
    app.add_api_route("/v1/sessions/deletes", deletes, methods=["POST"])
    app.add_api_route("/v1/sessions/{session_id}", state, methods=["GET"])
    app.add_api_route("/v1/sessions/{session_id}", delete, methods=["DELETE"])
    return service


async def _result(answer: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """One item of a batch: its answer with `"status": 200`, or the code and detail the single route would give."""
    try:
        return {"status": 200, **await answer}
    except HTTPProblem as exc:
        return _failure(exc)


def _failure(exc: HTTPProblem) -> dict[str, Any]:
    return {"status": exc.status, "detail": exc.message}


def _validate(model: Any, body: Any, what: str) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise HTTPProblem(422, describe_validation_error(exc, what)) from exc
