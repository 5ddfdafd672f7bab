"""The Docker runtime end to end: a real gateway starting real worker containers (`--network none`).

Covers: same results as the local runtime, a container killed mid-batch, broken images refused cleanly,
the admin token, name clashes, and no container of ours left behind after a normal stop or a SIGKILL.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import signal
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer, start_server, stop_server
from tests.docker.test_images import docker

pytestmark = pytest.mark.docker

TOKEN = "test-admin-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
MATH_IMAGE = "rewardgym/math:latest"


def our_containers(owner: str) -> list[str]:
    listed = docker("ps", "-a", "-q", "--filter", "label=rewardgym.managed=true",
                    "--filter", f"label=rewardgym.owner={owner}").stdout
    return listed.split()


DEPLOY_CONFIG = str(Path(__file__).resolve().parents[2] / "deploy" / "rewardgym.toml")


def start_docker_gateway(tmp_path: Path, owner: str, *images: str) -> RunningServer:
    """A gateway with the Docker runtime: the given images, or the images of deploy/rewardgym.toml."""
    sources = [arg for image in images for arg in ("--image", image)] or ["--config", DEPLOY_CONFIG]
    return start_server(tmp_path, "--runtime", "docker", *sources, "--owner", owner, "--admin-token", TOKEN,
                        ready_timeout=180)


@pytest.fixture(scope="module")
def docker_gateway(built_images, tmp_path_factory) -> RunningServer:
    """Every built-in family in containers (the code family with its warm sandbox containers)."""
    owner = f"pytest-{uuid.uuid4().hex[:8]}"
    server = start_docker_gateway(tmp_path_factory.mktemp("docker-gw"), owner)
    server.owner = owner  # type: ignore[attr-defined]
    yield server
    stop_server(server)
    assert our_containers(owner) == [], "containers left after the gateway stopped"


@pytest.fixture(scope="module")
def local_gateway(tmp_path_factory) -> RunningServer:
    server = start_server(tmp_path_factory.mktemp("local-gw"), "--families", "math,code", "--processes", "2")
    yield server
    stop_server(server)


def test_every_environment_gives_the_same_results_in_docker_and_locally(docker_gateway, local_gateway):
    with docker_gateway.client() as in_docker, local_gateway.client() as local:
        envs = local.get("/v1/envs").json()["envs"]
        assert {e["name"] for e in envs} == {e["name"] for e in in_docker.get("/v1/envs").json()["envs"]}
        for env in envs:
            task = env["example"]["task"]
            completions = [env["example"]["completion"], "I give up.", r"\boxed{0}", r"<think>x</think> \boxed{7}"]
            if env["generates_tasks"]:
                generated = local.post(f"/v1/envs/{env['name']}/tasks", json={"n": 3, "seed": 11}).json()["tasks"]
                assert generated == in_docker.post(f"/v1/envs/{env['name']}/tasks",
                                                   json={"n": 3, "seed": 11}).json()["tasks"]
            body = {"groups": [{"task": task, "completions": completions}]}
            keys = []
            for http in (local, in_docker):
                results = http.post(f"/score/{env['name']}", json=body).json()["groups"][0]["results"]
                keys.append([(r["status"], r["reward"], r["components"], r["details"].get("extracted"),
                              r["details"].get("verdict")) for r in results])
            assert keys[0] == keys[1], env["name"]
            assert keys[0][0][1] == 1.0, f"{env['name']}'s own example did not score 1"


def test_killing_a_container_mid_batch_loses_nothing_and_it_is_replaced(docker_gateway):
    items = [{"completion": rf"\boxed{{{n % 7}}}", "task": {"answer": str(n % 5)}, "id": str(n)} for n in range(500)]
    with docker_gateway.client() as http, concurrent.futures.ThreadPoolExecutor(1) as pool:
        before = set(our_containers(docker_gateway.owner))
        started = time.monotonic()
        answer = pool.submit(http.post, "/score/math", json={"items": items, "timeout_s": 5})
        time.sleep(0.3)
        docker("kill", *before)
        results = answer.result().json()["results"]
        assert time.monotonic() - started < 5 + 30
        assert [r["id"] for r in results] == [str(n) for n in range(500)]
        assert {r["status"] for r in results} <= {"ok", "error"}
        assert all((r["reward"] is None) == (r["status"] == "error") for r in results)
        deadline = time.monotonic() + 120
        while set(our_containers(docker_gateway.owner)) & before or http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the killed container was not replaced:\n" + docker_gateway.log()
            time.sleep(0.2)
        assert our_containers(docker_gateway.owner)
        again = http.post("/score/math", json={"items": items}).json()["results"]
        assert {r["status"] for r in again} == {"ok"}


def sandbox_owner(owner: str) -> str:
    """The label of this gateway's sandbox containers: the directory its code worker has at /run/sandbox."""
    code = docker("ps", "-q", "--filter", f"label=rewardgym.owner={owner}",
                  "--filter", "label=rewardgym.image=rewardgym/code:latest").stdout.split()
    return docker("inspect", "-f", '{{range .Mounts}}{{if eq .Destination "/run/sandbox"}}{{.Source}}{{end}}{{end}}',
                  *code).stdout.split()[0]


def test_replaced_containers_leave_no_connection_to_the_daemon_open(docker_gateway):
    """The Docker SDK keeps an idle connection pool per request URL, and a container's id is in its URLs: each
    replaced worker or sandbox container used to leave its connections open in the gateway (found by the soak:
    39 -> 72 open fds after 29 faults)."""
    label = f"label=rewardgym.sandbox.owner={sandbox_owner(docker_gateway.owner)}"

    def containers() -> tuple[list[str], list[str]]:
        return (our_containers(docker_gateway.owner),
                docker("ps", "-q", "--filter", "label=rewardgym.role=sandbox", "--filter", label).stdout.split())

    def replaced(victims: set[str], http: httpx.Client) -> bool:
        workers, sandboxes = containers()
        return not victims & {*workers, *sandboxes} and len(sandboxes) == 2 and http.get("/readyz").status_code == 200

    def open_fds() -> int:
        return len(os.listdir(f"/proc/{docker_gateway.process.pid}/fd"))

    with docker_gateway.client() as http:
        assert http.get("/readyz").status_code == 200
        before = open_fds()
        for _ in range(2):
            workers, sandboxes = containers()
            victims = {workers[0], sandboxes[0]}
            docker("kill", *victims)
            deadline = time.monotonic() + 120
            while not replaced(victims, http):
                assert time.monotonic() < deadline, "killed containers not replaced:\n" + docker_gateway.log()
                time.sleep(0.2)
        time.sleep(2)  # a health probe or two on the new containers
        assert open_fds() <= before + 2, (before, os.listdir(f"/proc/{docker_gateway.process.pid}/fd"))


BROKEN_WORKERS = {
    "exits": 'CMD ["false"]',
    "never-ready": 'CMD ["sleep", "infinity"]',
    "bad-catalogue": textwrap.dedent('''\
        RUN printf '%s\\n' \\
          'import http.server, os, socketserver' \\
          'class H(http.server.BaseHTTPRequestHandler):' \\
          '    def do_GET(self):' \\
          '        body = b"{\\"status\\": \\"ok\\"}" if self.path == "/healthz" else b"{\\"envs\\": [{\\"name\\": 3}]}"' \\
          '        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers()' \\
          '        self.wfile.write(body)' \\
          '    def address_string(self): return "worker"' \\
          'class S(socketserver.UnixStreamServer): pass' \\
          'S(os.environ["REWARDGYM_SOCKET"], H).serve_forever()' > /serve.py
        CMD ["python3", "/serve.py"]'''),
}


@pytest.fixture(scope="module")
def broken_images(built_images, tmp_path_factory) -> dict[str, str]:
    images = {}
    for name, tail in BROKEN_WORKERS.items():
        context = tmp_path_factory.mktemp(f"broken-{name}")
        (context / "Dockerfile").write_text(f"FROM rewardgym/base:bookworm\n{tail}\n")
        image = f"rewardgym-test/broken-{name}:latest"
        docker("build", "--network", "none", "-q", "-t", image, str(context), timeout=300)
        images[name] = image
    return images


@pytest.mark.parametrize("kind, expected", [
    ("exits", "exited before creating its socket"),
    ("never-ready", "no socket at $REWARDGYM_SOCKET"),
    ("bad-catalogue", "not ready after"),
])
def test_a_broken_image_is_refused_clearly_and_everything_else_keeps_serving(docker_gateway, broken_images,
                                                                             kind, expected):
    image = broken_images[kind]
    with docker_gateway.client(timeout=120) as http:
        answer = http.post("/v1/images", headers=AUTH, json={"image": image, "ready_timeout_s": 4})
        assert answer.status_code == 422, answer.text
        assert expected in answer.json()["detail"] and image in answer.json()["detail"]
        listed = http.get("/v1/images", headers=AUTH).json()["images"]
        assert image not in [entry["image"] for entry in listed]
        assert {entry["image"] for entry in listed} == {MATH_IMAGE, "rewardgym/code:latest"}
        assert all(worker["state"] == "ready" for entry in listed for worker in entry["workers"])
        assert not [c for c in our_containers(docker_gateway.owner)
                    if image in docker("inspect", "-f", "{{.Config.Image}}", c).stdout]
        assert http.post("/score/gsm8k", json={"task": {"answer": "18"}, "completion": "#### 18"}).json()["reward"] == 1


def test_registration_needs_the_admin_token(docker_gateway):
    with docker_gateway.client() as http:
        missing = http.post("/v1/images", json={"image": "x"})
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert http.post("/v1/images", json={"image": "x"}, headers={"authorization": "Bearer wrong"}).status_code == 403
        assert http.delete("/v1/images/x", headers={"authorization": "Bearer wrong"}).status_code == 403
        assert http.get("/v1/images").status_code == 401
        bad = http.post("/v1/images", headers=AUTH, json={"image": "x", "replicas": 0})
        assert bad.status_code == 422 and "replicas" in bad.json()["detail"]
        assert http.delete("/v1/images/nope:latest", headers=AUTH).status_code == 404


def test_an_image_whose_environments_exist_is_refused_with_409(docker_gateway):
    docker("tag", MATH_IMAGE, "rewardgym-test/math-copy:latest")
    with docker_gateway.client(timeout=120) as http:
        answer = http.post("/v1/images", headers=AUTH, json={"image": "rewardgym-test/math-copy:latest"})
        assert answer.status_code == 409 and "gsm8k" in answer.json()["clashes"]
        assert http.post("/score/math", json={"task": {"answer": "2"}, "completion": r"\boxed{2}"}).json()["reward"] == 1
        assert http.post("/v1/images", headers=AUTH, json={"image": MATH_IMAGE}).status_code == 409
    assert len(our_containers(docker_gateway.owner)) == 2  # math and code, nothing of the refused copy


def test_the_custom_environment_example_goes_from_nothing_to_a_score(docker_gateway, tmp_path):
    example = Path(__file__).resolve().parents[2] / "examples" / "custom_env"
    subprocess.run([str(example / "build.sh")], check=True, capture_output=True, timeout=600)
    with docker_gateway.client(timeout=120) as http:
        registered = http.post("/v1/images", headers=AUTH, json={"image": "my-org/reverse:latest"})
        assert registered.status_code == 201, registered.text
        assert registered.json()["envs"] == ["reverse"]
        assert "reverse" in [e["name"] for e in http.get("/v1/envs").json()["envs"]]
        scored = http.post("/score/reverse", json={"task": {"text": "abc"}, "completion": "cba"}).json()
        assert (scored["status"], scored["reward"], scored["env"]) == ("ok", 1.0, "reverse")
        assert http.delete("/v1/images/my-org/reverse:latest", headers=AUTH).status_code == 200
        assert http.post("/score/reverse", json={"task": {"text": "abc"}, "completion": "cba"}).status_code == 404


def test_no_container_survives_a_killed_gateway_once_it_restarts(built_images, tmp_path):
    owner = f"pytest-{uuid.uuid4().hex[:8]}"
    server = start_docker_gateway(tmp_path, owner, MATH_IMAGE)
    left = our_containers(owner)
    assert len(left) == 1
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    assert our_containers(owner) == left, "expected the SIGKILLed gateway to leave its container behind"
    again = start_docker_gateway(tmp_path, owner, MATH_IMAGE)
    sockets = re.search(r"sockets under (\S+)", again.log()).group(1)  # a mkdtemp of the runtime's
    try:
        now = our_containers(owner)
        assert len(now) == 1 and now != left
        assert httpx.post(again.url + "/score/gsm8k", json={"task": {"answer": "1"}, "completion": "#### 1"},
                          timeout=30).json()["reward"] == 1.0
    finally:
        stop_server(again)
    assert our_containers(owner) == []
    assert not os.path.exists(sockets), "the stopped gateway left its socket directory behind"


def test_replicas_of_an_image_share_its_load(built_images, tmp_path):
    config = tmp_path / "replicas.toml"
    config.write_text(f'[[images]]\nimage = "{MATH_IMAGE}"\nreplicas = 2\ncpus = 1.0\nprocesses = 1\n')
    owner = f"pytest-{uuid.uuid4().hex[:8]}"
    server = start_server(tmp_path, "--runtime", "docker", "--config", str(config), "--owner", owner,
                          "--admin-token", TOKEN, ready_timeout=180)
    try:
        assert len(our_containers(owner)) == 2
        items = [{"completion": rf"\boxed{{{n}}}", "task": {"answer": str(n)}} for n in range(300)]
        with server.client() as http, concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: http.post("/score/math", json={"items": items}), range(4)))
            assert all(r["reward"] == 1.0 for answer in answers for r in answer.json()["results"])
            metrics = http.get("/metrics").text
        served = {line.split('"')[1]: float(line.split()[-1]) for line in metrics.splitlines()
                  if line.startswith("rewardgym_worker_items_total")}
        assert set(served) == {f"{MATH_IMAGE}#0", f"{MATH_IMAGE}#1"} and all(count > 0 for count in served.values())
        assert sum(served.values()) == 1200
    finally:
        stop_server(server)
    assert our_containers(owner) == []
