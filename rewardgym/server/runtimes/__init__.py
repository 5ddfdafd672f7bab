"""Runtimes: how workers are started and reached (local processes, Docker containers, remote URLs)."""

from rewardgym.server.runtimes.base import Runtime, WorkerHandle, WorkerNotReady

__all__ = ["Runtime", "WorkerHandle", "WorkerNotReady"]
