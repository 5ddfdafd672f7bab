"""When a job must stop early: its deadline passed, or its caller hung up (the scoring process that sent it was
killed at its item's deadline). Checked between tests and, through ``fd``, while a test runs, so the slot is
free for the next caller at once instead of after the job's last test."""

from __future__ import annotations

import socket
import time


class JobStopped(Exception):
    """The job was stopped before its end (``reason``: "deadline" or "caller hung up")."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class JobControl:
    """The job's deadline (monotonic) and the caller's connection, watched for a hang-up."""

    def __init__(self, conn: socket.socket | None, deadline: float | None):
        self.conn, self.deadline = conn, deadline
        self.watching = conn is not None  # False once the caller sent more bytes (never done; then not watched)
        self.stopped: str | None = None

    @property
    def fd(self) -> int | None:
        """Readable when the caller hangs up (or sends more): poll it with the test's pipes."""
        return self.conn.fileno() if self.watching and self.conn is not None else None

    def clamp(self, deadline: float) -> float:
        """A test's own wall deadline, never past the job's."""
        return deadline if self.deadline is None else min(deadline, self.deadline)

    def poll(self) -> str | None:
        """Why the job must stop now, or None; remembered in ``stopped``."""
        if self.stopped is None:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.stopped = "deadline"
            elif self._hung_up():
                self.stopped = "caller hung up"
        return self.stopped

    def check(self) -> None:
        """Between steps of a job: raise ``JobStopped`` if it must stop."""
        if self.poll() is not None:
            raise JobStopped(self.stopped)

    def _hung_up(self) -> bool:
        if not self.watching or self.conn is None:
            return False
        try:
            data = self.conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:  # ECONNRESET and the like: gone
            return True
        if data:
            self.watching = False  # bytes ahead of our reply: not a hang-up; stop polling a readable fd
            return False
        return True
