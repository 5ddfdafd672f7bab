"""How trainers' dataset fields become task payloads: a task object, its JSON, or a bare gold answer."""

from __future__ import annotations

import json
from typing import Any


def task_from_label(label: Any, answer_field: str = "answer") -> dict[str, Any]:
    """A task dict from a dataset's label: a dict is the task (Arrow's None-filled fields dropped), a string holding
    a JSON object is parsed, anything else is the gold answer, `{answer_field: str(label)}`."""
    if isinstance(label, dict):
        return {key: value for key, value in label.items() if value is not None}
    if isinstance(label, str):
        text = label.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        return {answer_field: label}
    if label is None:
        raise ValueError("Expected a task, its JSON or a gold answer as the label, got None")
    return {answer_field: str(label)}


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
