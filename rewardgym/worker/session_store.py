"""The worker's live sessions: what each one keeps, and the store that expires and caps them.

A session is kept as (env, seed, options, the actions played so far, the answers recorded per `request_id`); no
game object lives here (a scoring process may hold its game open, as a cache: rewardgym/worker/live_sessions.py).
A session is only in this process's memory, so its id starts with this process's instance id: an id of an earlier
run of the worker answers 410 (the game is gone), never a new game. Sessions idle for `ttl_s` are forgotten (swept
on every call, oldest first); past `max_sessions` live sessions a new one is refused with 429 and a `Retry-After`
of when the idlest expires.
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

from rewardgym.http import HTTPProblem

TTL_ENV_VAR = "REWARDGYM_SESSION_TTL_S"
MAX_SESSIONS_ENV_VAR = "REWARDGYM_MAX_SESSIONS"
KEPT_ANSWERS = 64
"""Answers kept whole per session; an older `request_id` sent again has its answer rebuilt by replay."""
_SESSION_ID = re.compile(r"[0-9a-f]{12}-[0-9a-f]{24}")
GATEWAY_KEY_CHARS = 8
_PUBLIC_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{12}-[0-9a-f]{24}")
"""A session id as the gateway hands it out: its key of this worker, then the id here."""


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
    slot: int | None = None
    """The pool slot that served its last step: its scoring process likely holds the game open (a hint only)."""
    id: str = ""
    """Its id in this worker (set by `SessionStore.add`)."""
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
        session.id = f"{self.instance}-{secrets.token_hex(12)}"
        self._sessions[session.id] = session
        return session.id

    def get(self, session_id: str, use: bool = True) -> Session:
        """The live session (counted as used unless `use` is false), 410 for one of an earlier run of this worker,
        else 404. The id may carry the gateway's prefix (`<worker key>-<id>`, the public form)."""
        self.sweep()
        if _PUBLIC_ID.fullmatch(session_id):
            session_id = session_id[GATEWAY_KEY_CHARS + 1:]
        session = self._sessions.get(session_id)
        if session is None:
            if _SESSION_ID.fullmatch(session_id) and not session_id.startswith(self.instance):
                raise HTTPProblem(410, "Session is gone: the worker that held it restarted (this is a new run of "
                                  "it), and its game cannot be recovered; start a new session")
            raise HTTPProblem(404, f"Unknown session: never started, deleted, or expired after "
                              f"{self.settings.ttl_s:g} s idle")
        if use:
            self.touch(session)
        return session

    def touch(self, session: Session) -> None:
        if not session.closed:
            session.used_at = self.clock()
            self._sessions.move_to_end(session.id)

    def remove(self, session: Session) -> None:
        del self._sessions[session.id]
        session.closed = True
