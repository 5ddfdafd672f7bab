"""API fuzzing with schemathesis against the live OpenAPI schema of a gateway started here on loopback.

Every route of the schema gets bounded positive and negative (malformed) examples: no response may be a 5xx, and
every response must match what the schema documents for it (status code, content type, headers, body schema).
Path parameters naming an environment alternate between the fuzzer's own strings and environments that exist, so
bodies reach the parser of a real route rather than stopping at 404. The admin routes exist only with the Docker
runtime; they are fuzzed with the admin token, without it and with a wrong one, under the `docker` marker.
`bench/fuzz.py` is the longer run.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.conftest import TOY_FAMILY, RunningServer, start_server, stop_server
from tests.support.fuzzing import fuzz_schema

TOY_TURNS = "tests.support.toy_turns:FAMILY"
KNOWN_ENVS = ("toy_echo", "toy_counter", "toy_single")
ADMIN_TOKEN = "fuzz-admin-token"
EXAMPLES = 20


@pytest.fixture(scope="module")
def local_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("fuzz"), "--families", f"{TOY_FAMILY},{TOY_TURNS}",
                          "--processes", "2", "--max-body-bytes", str(256 * 1024))
    yield server
    stop_server(server)


def test_every_route_answers_within_its_schema_and_never_5xx(local_gateway):
    report = fuzz_schema(local_gateway.url, examples=EXAMPLES, known_envs=KNOWN_ENVS)
    assert report.cases >= 10 * EXAMPLES, report.as_dict()
    assert report.server_errors == 0 and not report.failures, "\n\n".join(report.failures)
    assert local_gateway.process.poll() is None


@pytest.fixture(scope="module")
def admin_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The Docker runtime with no image yet: the admin routes exist, and the images the fuzzer invents fail."""
    server = start_server(tmp_path_factory.mktemp("fuzz-admin"), "--runtime", "docker", "--owner", "fuzz-admin",
                          "--admin-token", ADMIN_TOKEN, ready_path="/healthz")  # no worker: never "ready"
    yield server
    stop_server(server)


@pytest.mark.docker
@pytest.mark.parametrize("authorization, allowed", [
    (f"Bearer {ADMIN_TOKEN}", None), (None, (401,)), ("Bearer wrong-token", (403,)),
], ids=["token", "no-token", "wrong-token"])
def test_admin_routes_with_and_without_the_token(admin_gateway, authorization, allowed):
    headers = {"Authorization": authorization} if authorization else None
    report = fuzz_schema(admin_gateway.url, examples=EXAMPLES, headers=headers, tag="admin",
                         expect_statuses=allowed)
    assert report.cases >= 2 * EXAMPLES, report.as_dict()  # GET /v1/images has nothing to vary
    assert report.server_errors == 0 and not report.failures, "\n\n".join(report.failures)
