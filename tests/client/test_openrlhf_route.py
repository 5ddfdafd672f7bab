"""`POST /v1/openrlhf/{env}` called as OpenRLHF's remote reward model calls it: `requests.post(url, json={"query",
"prompts", "labels"}, headers={"Content-Type": "application/json"}, timeout=180)`, then `.json()` read for
`rewards`, `scores` and `extra_logs` (openrlhf/utils/remote_rm_utils.py: `request_api_wrapper`, `remote_rm_fn_ray`)."""

from __future__ import annotations

import json

import requests

HEADERS = {"Content-Type": "application/json"}


def request_api_wrapper(url: str, data: dict) -> requests.Response:
    """OpenRLHF's request, minus its retry loop (which would hide a 4xx behind five attempts)."""
    return requests.post(url=url, json=data, headers=HEADERS, timeout=180)


def test_rewards_scores_and_extra_logs_in_query_order(toy_server):
    prompts = ["<|user|>Repeat 11<|assistant|>", "<|user|>Repeat 42<|assistant|>"] * 2 + ["P"]
    responses = ["11", "41", " 42 ", "", "!raise"]
    labels = ["11", '{"answer": "42"}', {"answer": "42"}, "42", "1"]
    data = {"query": [p + r for p, r in zip(prompts, responses)], "prompts": prompts, "labels": labels}
    answer = request_api_wrapper(f"{toy_server.url}/v1/openrlhf/toy_echo", data)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["rewards"] == [1.0, 0.0, 1.0, 0.0, None]  # the last has no reward: never a made-up 0
    assert body["scores"] == body["rewards"]
    assert body["extra_logs"] == {"null": [0.0, 0.0, 0.0, 0.0, 1.0], "no_answer": [0.0, 0.0, 0.0, 1.0, 0.0]}

    substituted = request_api_wrapper(f"{toy_server.url}/v1/openrlhf/toy_echo?null_reward=0", data).json()
    assert substituted["rewards"] == [1.0, 0.0, 1.0, 0.0, 0.0] and substituted["extra_logs"]["null"][-1] == 1.0


def test_malformed_openrlhf_requests_are_4xx_with_a_message(toy_server):
    url = f"{toy_server.url}/v1/openrlhf/toy_echo"
    not_prefixed = request_api_wrapper(url, {"query": ["Q: 2"], "prompts": ["P:"], "labels": ["2"]})
    assert not_prefixed.status_code == 422 and "to start with its prompt" in not_prefixed.json()["detail"]
    uneven = request_api_wrapper(url, {"query": ["a", "b"], "prompts": ["a"], "labels": ["1", "2"]})
    assert uneven.status_code == 422 and "2 queries, 1 prompts" in uneven.json()["detail"]
    missing = request_api_wrapper(url, {"query": ["a"]})
    assert missing.status_code == 422 and "prompts" in missing.json()["detail"]
    unknown = request_api_wrapper(f"{toy_server.url}/v1/openrlhf/nope", {"query": [], "prompts": [], "labels": []})
    assert unknown.status_code == 404
    empty = request_api_wrapper(url, {"query": [], "prompts": [], "labels": []})
    assert empty.json() == {"rewards": [], "scores": [], "extra_logs": {"null": [], "no_answer": []}}
    bad = requests.post(url + "?null_reward=zero", data=json.dumps({"query": ["a1"], "prompts": ["a"],
                                                                     "labels": ["1"]}), headers=HEADERS, timeout=10)
    assert bad.status_code == 422 and "null_reward" in bad.json()["detail"]
