import pytest
from pydantic import ValidationError

from rewardgym.protocol import (
    BatchRequest,
    GroupsRequest,
    RequestShapeError,
    ScoreResult,
    SingleRequest,
    Status,
    count_items,
    parse_score_request,
)


def test_shapes_are_told_apart_by_their_keys():
    assert isinstance(parse_score_request({"completion": "x", "task": {}}), SingleRequest)
    assert isinstance(parse_score_request({"items": [{"completion": "x", "task": {}}]}), BatchRequest)
    groups = parse_score_request({"groups": [{"task": {}, "completions": ["a", "b"]}], "timeout_s": 3})
    assert isinstance(groups, GroupsRequest) and count_items(groups) == 2 and groups.timeout_s == 3


@pytest.mark.parametrize("body, fragment", [
    ([], "Expected a JSON object, got list"),
    ({"task": {}}, "completion: Field required"),
    ({"completion": 3, "task": {}}, "completion: Input should be a valid string"),
    ({"items": []}, "items: List should have at least 1 item"),
    ({"groups": [{"task": {}, "completions": []}]}, "groups.0.completions"),
    ({"completion": "x", "task": {}, "timeout_s": -1}, "timeout_s"),
    ({"completion": "x", "task": {}, "surprise": 1}, "surprise: Extra inputs are not permitted"),
])
def test_malformed_requests_get_a_message_naming_the_field(body, fragment):
    with pytest.raises(RequestShapeError, match=None) as caught:
        parse_score_request(body)
    assert fragment in str(caught.value)


def test_reward_is_null_exactly_for_failures():
    ok = dict(env="e", env_version="1")
    ScoreResult(reward=0.5, status=Status.OK, **ok)
    ScoreResult(reward=0.0, status=Status.NO_ANSWER, **ok)
    for status in (Status.TIMEOUT, Status.ERROR, Status.INVALID_TASK):
        ScoreResult(reward=None, status=status, **ok)
        with pytest.raises(ValidationError):
            ScoreResult(reward=0.0, status=status, **ok)
    with pytest.raises(ValidationError):
        ScoreResult(reward=None, status=Status.OK, **ok)
    with pytest.raises(ValidationError):
        ScoreResult(reward=1.5, status=Status.OK, **ok)


# ---- the shared rules: items, reshaping, result bodies, failures, deadlines, status counts ---------------------

from rewardgym.protocol import (  # noqa: E402
    EnvInfo,
    ScoreResult,
    Status,
    decode_status_counts,
    encode_status_counts,
    failure_body,
    item_deadline_s,
    parse_score_request,
    request_items,
    response_body,
    result_body,
)

ENV = EnvInfo(name="toy", version="1.2.3", family="f", description="", generates_tasks=False, task_schema={},
              example={}, timeout_s=5.0, max_timeout_s=20.0)


@pytest.mark.parametrize("status", list(Status))
def test_result_body_is_a_valid_score_result_for_every_status(status):
    body = result_body(item_id="a", env="toy", env_version="1", status=status, reward=0.5,
                       components={"c": 1.0}, details={"message": "m"}, elapsed_ms=1.5)
    result = ScoreResult.model_validate(body)
    assert (result.reward is None) == (status not in (Status.OK, Status.NO_ANSWER))
    assert result.model_dump(mode="json") == body


def test_items_and_response_body_round_trip_every_shape():
    groups = parse_score_request({"groups": [{"id": "p", "task": {}, "completions": ["a", "b"]},
                                             {"task": {"x": 1}, "completions": ["c"]}]})
    items = request_items(groups)
    assert [item.id for item in items] == ["p#0", "p#1", "1#0"]
    assert [item.completion for item in items] == ["a", "b", "c"]
    body = response_body(groups, [{"n": i} for i in range(3)])
    assert body == {"groups": [{"id": "p", "results": [{"n": 0}, {"n": 1}]}, {"id": None, "results": [{"n": 2}]}]}
    batch = parse_score_request({"items": [{"completion": "a", "task": {}, "id": "i"}]})
    assert response_body(batch, [{"n": 0}]) == {"results": [{"n": 0}]}
    single = parse_score_request({"completion": "a", "task": {}})
    assert response_body(single, [{"n": 0}]) == {"n": 0}


def test_failure_body_has_one_null_result_per_item_in_the_request_shape():
    groups = parse_score_request({"groups": [{"id": "p", "task": {}, "completions": ["a", "b"]}]})
    body = failure_body(groups, ENV, Status.ERROR, "worker died")
    results = [ScoreResult.model_validate(r) for r in body["groups"][0]["results"]]
    assert [r.id for r in results] == ["p#0", "p#1"]
    assert all(r.reward is None and r.status is Status.ERROR and r.details["message"] == "worker died"
               for r in results)
    with pytest.raises(ValueError, match="failure status"):
        failure_body(groups, ENV, Status.OK, "no")


def test_item_deadline_is_the_request_timeout_capped_by_the_environment():
    assert item_deadline_s(None, ENV) == 5.0
    assert item_deadline_s(2.0, ENV) == 2.0
    assert item_deadline_s(999.0, ENV) == 20.0


def test_status_counts_round_trip_and_ignore_garbage():
    results = [{"status": "ok"}, {"status": "ok"}, {"status": "timeout"}]
    header = encode_status_counts(results)
    assert header == "ok=2,timeout=1"
    assert decode_status_counts(header) == {Status.OK: 2, Status.TIMEOUT: 1}
    assert decode_status_counts("bogus=3,ok=x,,error=1") == {Status.ERROR: 1}
    assert decode_status_counts(None) == {}
