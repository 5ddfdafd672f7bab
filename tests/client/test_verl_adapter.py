"""The verl adapter, called the way verl's reward managers call it (verl/workers/reward_manager/naive.py and
batch.py): keyword arguments, `reward_kwargs` bound with functools.partial as verl's `get_custom_reward_fn` does,
and the batch fields as the numpy object arrays of a DataProto's `non_tensor_batch`."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from rewardgym_client.labels import task_from_label
from rewardgym_client.verl import RewardUnavailable, compute_score, compute_score_batch

KEYS = {"score", "acc", "null"}


def test_single_form_routes_by_data_source_and_returns_the_same_keys(toy_server):
    score = functools.partial(compute_score, url=toy_server.url, routes={"echo/v1": "toy_echo"})
    right = score(data_source="echo/v1", solution_str="42", ground_truth="42", extra_info={"index": 0})
    wrong = score(data_source="echo/v1", solution_str="41", ground_truth='{"answer": "42"}', extra_info=None)
    blank = score(data_source="toy_echo", solution_str=" ", ground_truth="42")  # unrouted: the env's own name
    assert right == {"score": 1.0, "acc": 1.0, "null": 0.0}
    assert wrong == {"score": 0.0, "acc": 0.0, "null": 0.0} and blank["score"] == 0.0
    assert set(right) == set(wrong) == set(blank) == KEYS
    given = score(data_source="toy_echo", solution_str="5", ground_truth="unused", extra_info={"task": {"answer": "5"}})
    assert given["score"] == 1.0  # extra_info["task"] wins over the ground truth


def test_a_null_reward_raises_unless_null_score_is_set(toy_server):
    with pytest.raises(RewardUnavailable, match="got status error: .*boom"):
        compute_score(data_source="toy_echo", solution_str="!raise", ground_truth="1", url=toy_server.url)
    chosen = compute_score(data_source="toy_echo", solution_str="!raise", ground_truth="1", url=toy_server.url,
                           null_score=0.0)
    assert chosen == {"score": 0.0, "acc": 0.0, "null": 1.0}


def test_batched_form_keeps_order_across_environments(toy_server):
    n = 7
    results = compute_score_batch(
        data_sources=np.array(["toy_echo", "other"] * 3 + ["toy_echo"], dtype=object),
        solution_strs=[str(i) for i in range(n)],
        ground_truths=np.array([str(i if i % 3 else i + 1) for i in range(n)], dtype=object),
        extra_infos=np.array([{"env": "toy_echo"} if i % 2 else {"split": "train"} for i in range(n)], dtype=object),
        url=toy_server.url)
    assert [r["score"] for r in results] == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    assert all(set(r) == KEYS for r in results)


def test_task_from_extra_info_and_label_forms():
    assert task_from_label({"answer": "1", "expression": None}) == {"answer": "1"}
    assert task_from_label('{"answer": "1/2"}') == {"answer": "1/2"}
    assert task_from_label("{not json") == {"answer": "{not json"}
    assert task_from_label(np.int64(7)) == {"answer": "7"}
    with pytest.raises(ValueError, match="got None"):
        task_from_label(None)
