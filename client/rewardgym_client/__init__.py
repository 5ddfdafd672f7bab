"""rewardgym_client: talk to a rewardgym reward server from a training loop (httpx + pydantic only).

    from rewardgym_client import RewardClient
    with RewardClient("http://127.0.0.1:8000") as client:
        results = client.score_groups("arithmetic", [{"task": task, "completions": completions}])

A result whose `reward` is None (status timeout/error/invalid_task) is an infrastructure failure, not a wrong
answer: keep it out of the group's statistics instead of counting it as 0.
"""

from rewardgym.protocol import EnvInfo, GeneratedTask, Group, ScoreItem, ScoreResult, Status

from rewardgym_client.aio import AsyncRewardClient
from rewardgym_client.errors import ConnectionFailed, RetriesExhausted, RewardGymError, ServerError
from rewardgym_client.retry import RetryPolicy
from rewardgym_client.sync import RewardClient

__all__ = [
    "AsyncRewardClient",
    "ConnectionFailed",
    "EnvInfo",
    "GeneratedTask",
    "Group",
    "RetriesExhausted",
    "RetryPolicy",
    "RewardClient",
    "RewardGymError",
    "ScoreItem",
    "ScoreResult",
    "ServerError",
    "Status",
]
