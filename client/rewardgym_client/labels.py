"""How trainers' dataset fields become what the server scores: the task (`rewardgym.labels`, the rule the
gateway's OpenRLHF route uses too) and the completion's text."""

from __future__ import annotations

from typing import Any

from rewardgym.labels import task_from_label

__all__ = ["completion_text", "task_from_label"]


def completion_text(completion: Any) -> str:
    """The text of a plain completion (str) or of a conversational one (messages: the last one's content)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        content = completion[-1].get("content", "")
        if isinstance(content, list):  # multimodal parts: keep the text ones
            return "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return str(content)
    raise ValueError(f"Expected a completion as a string or a list of messages, got {type(completion).__name__}")
