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
