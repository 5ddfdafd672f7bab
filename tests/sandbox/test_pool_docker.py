"""The hostile suite THROUGH THE CONTAINER POOL: two warm sandbox containers (rewardgym_sandboxes.manager) and
rewardgym_sandboxes.pool.SandboxPool, as the code family uses them. Each hostile program gets the right verdict, leaves no
process or file behind in either container, and the next job still works; a container killed mid-job costs that
job a retry (or IE, never OK/WA from the dead container) and is replaced."""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import threading
import time

import importlib

import hardening_cases as hardening
import pytest
from sandbox_support import REPO, python_job
from test_supervisor_hostile import HOSTILE

from rewardgym_sandboxes.client import run_job

pytestmark = pytest.mark.docker

LEFTOVERS = r"""
import os
procs = []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            status = open(f'/proc/{pid}/status').read()
        except OSError:
            continue
        uids = next(line.split()[1:] for line in status.splitlines() if line.startswith('Uid:'))
        if any(u != '0' for u in uids):
            procs.append(pid)
files = [f'{d}/{n}' for d in ('/tmp', '/dev/shm', '/sandbox/work') for n in os.listdir(d)]
print(procs, files)
"""


@pytest.fixture(scope="session")
def sandbox_pool(tmp_path_factory):
    """Two warm containers of rewardgym/sandbox:latest (built here, seconds when cached; only the sandbox image:
    these tests need no other), or of $REWARDGYM_SANDBOX_TEST_IMAGE, e.g. an older supervisor's image to see a
    regression test fail there."""
    docker = importlib.import_module("docker")  # a test dependency: missing must fail, not skip
    subprocess.run([str(REPO / "sandboxes" / "images" / "build.sh")], check=True, stdout=subprocess.DEVNULL)
    from rewardgym_sandboxes.manager import IMAGE, SandboxManager
    from rewardgym_sandboxes.pool import SandboxPool

    socket_dir = tmp_path_factory.mktemp("sandbox-pool") / "sockets"
    image = os.environ.get("REWARDGYM_SANDBOX_TEST_IMAGE", IMAGE)
    manager = SandboxManager(2, image, socket_dir=str(socket_dir), client=docker.from_env()).start()
    manager.run_in_background(0.2)
    yield manager, SandboxPool(str(socket_dir))
    manager.stop()


def _leftovers(manager) -> list[str]:
    out = []
    for container in manager.containers:
        code, output = container.exec_run(["python3", "-c", LEFTOVERS])
        out.append(output.decode().strip())
    return out


def _assert_clean_and_alive(manager, pool) -> None:
    assert _leftovers(manager) == ["[] []", "[] []"]
    for _ in range(2):  # both slots, whichever takes the jobs
        result = pool.run(python_job("print(input()[::-1])", "olleh"), 30)
        assert (result["verdict"], result["tests"][0]["stdout"]) == ("OK", "hello\n"), result
        assert result["tests"][0]["runner"] == "zygote"
    launchers = [info["zygote_launcher"] for info in pool.info()]  # root, in each container: never failed
    assert all(ln["pid"] is not None and ln["failures"] == 0 for ln in launchers), launchers
    assert sum(ln["forks"] for ln in launchers) >= 2, launchers


def test_isolation_flags(sandbox_pool):
    manager, pool = sandbox_pool
    host = manager.containers[0].attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and sorted(host["CapAdd"]) == sorted(manager.options.capabilities)
    assert host["SecurityOpt"] == ["no-new-privileges"] and host["PidsLimit"] == 128
    assert host["Memory"] == host["MemorySwap"] == 2 * 1024**3
    labels = manager.containers[0].labels
    assert labels["rewardgym.managed"] == "true" and labels["rewardgym.role"] == "sandbox"
    infos = pool.info()
    assert len(infos) == 2 and len({i["isolation"]["uid"] for i in infos}) == 2
    assert all(i["isolation"]["interfaces"] == ["lo"] and i["isolation"]["source_private"] for i in infos)


def test_every_language(sandbox_pool):
    _, pool = sandbox_pool
    jobs = {
        "python": ("print(2 * int(input()))", "21\n", "42\n"),
        "cpp": ("#include <iostream>\nint main(){int a; std::cin >> a; std::cout << 2 * a << '\\n';}", "21", "42\n"),
        "javascript": ("console.log(2 * Number(require('fs').readFileSync(0, 'utf8')))", "21", "42\n"),
        "sqlite": ("select 2 * a from t;", "create table t(a); insert into t values (21);", "42\n"),
    }
    for language, (source, stdin, expected) in jobs.items():
        result = pool.run({"language": language, "source": source, "tests": [{"stdin": stdin}]}, 60)
        assert (result["verdict"], result["tests"][0]["stdout"]) == ("OK", expected), result


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_program_in_container(sandbox_pool, name):
    manager, pool = sandbox_pool
    job, verdicts, max_seconds = HOSTILE[name]
    start = time.monotonic()
    result = pool.run(job, 60)
    if name == "kill(-1, SIGKILL)" and result["verdict"] == "RE":
        # Alone in its uid in the container's pid namespace, kill(-1) finds nobody to signal: ESRCH.
        assert "ProcessLookupError" in result["tests"][0]["stderr"], result
    else:
        assert result["verdict"] in verdicts, result
    assert result["attempts"] == 1
    assert time.monotonic() - start < max_seconds + 2
    _assert_clean_and_alive(manager, pool)


def test_loopback_of_the_host_is_unreachable_and_no_route(sandbox_pool):
    manager, pool = sandbox_pool
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        source = f"""
import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=1)
    print('connected')
except OSError as exc:
    print('blocked', exc)
print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))
print(len(open('/proc/net/route').read().splitlines()))
"""
        result = pool.run(python_job(source), 30)
        listener.settimeout(0.2)
        with pytest.raises(socket.timeout):
            listener.accept()
    lines = result["tests"][0]["stdout"].splitlines()
    assert lines[0].startswith("blocked"), result
    assert lines[1:] == ["['lo']", "1"]  # loopback only; the route table has its header and no route
    _assert_clean_and_alive(manager, pool)


def test_expected_outputs_supervisor_files_and_environment_are_out_of_reach(sandbox_pool):
    manager, pool = sandbox_pool
    secret = f"EXPECTED-{os.getpid()}-{time.time_ns()}"
    source = f"""
import os, sys
data = sys.stdin.read()
found = []
for root in ('/sandbox', '/tmp', '/dev/shm', '/run/sandbox', '/opt'):
    for d, _, names in os.walk(root):
        for n in names:
            try:
                if {secret!r} in open(os.path.join(d, n), errors='ignore').read():
                    found.append(os.path.join(d, n))
            except OSError:
                pass
for pid in filter(str.isdigit, os.listdir('/proc')):
    for f in ('environ', 'cmdline'):
        try:
            if {secret!r}.encode() in open(f'/proc/{{pid}}/{{f}}', 'rb').read():
                found.append(pid + f)
        except OSError:
            pass
for path in ['/opt/rewardgym-sandbox/supervisor/server.py', '/proc/1/environ', '/run/sandbox/slot-0.sock']:
    try:
        open(path, 'rb').read()
        found.append('READ ' + path)
    except OSError:
        pass
try:
    print(os.listdir('/run/sandbox'))
except OSError:
    pass
print(found, {secret!r} in data, sorted(os.environ))
"""
    os.environ["RG_SERVER_SECRET"] = secret  # the server's environment: must not reach the sandbox
    try:
        job = {"language": "python", "source": source,
               "tests": [{"stdin": "1 2\n", "expected": secret, "expected_output": secret}]}
        result = pool.run(job, 30)
    finally:
        del os.environ["RG_SERVER_SECRET"]
    out = result["tests"][0]["stdout"]
    assert out == "[] False ['HOME', 'LANG', 'PATH', 'TMPDIR']\n", result
    _assert_clean_and_alive(manager, pool)


def test_writing_outside_the_work_dir_fails(sandbox_pool):
    manager, pool = sandbox_pool
    targets = ["/opt/rewardgym-sandbox/evil", "/etc/evil", "/usr/bin/evil", "/evil", "/run/sandbox/evil.sock",
               "/sandbox/evil", "/sandbox/work/evil", "/root/evil"]
    source = f"""
for path in {targets!r}:
    try:
        open(path, 'w').write('x')
        print('WROTE', path)
    except OSError as exc:
        pass
open('inside.txt', 'w').write('fine')
print(open('inside.txt').read())
"""
    result = pool.run(python_job(source), 30)
    assert result["tests"][0]["stdout"] == "fine\n", result
    assert not os.path.exists(os.path.join(pool.socket_dir, "evil.sock"))
    _assert_clean_and_alive(manager, pool)


def test_files_in_tmp_and_shm_are_gone_for_the_next_job(sandbox_pool):
    manager, pool = sandbox_pool
    paths = ["/tmp/rg-left", "/dev/shm/rg-left", "/tmp/rg-left-dir"]
    write = (f"import os\nos.mkdir({paths[2]!r})\nopen({paths[2]!r} + '/f', 'w').write('x')\n"
             f"for p in {paths[:2]!r}:\n    open(p, 'w').write('x')\nprint('written')")
    check = f"import os\nprint([os.path.exists(p) for p in {paths!r}])"
    for _ in range(2):  # whichever slot gets each job
        assert pool.run(python_job(write), 30)["tests"][0]["stdout"] == "written\n"
        assert pool.run(python_job(check), 30)["tests"][0]["stdout"] == "[False, False, False]\n"
    _assert_clean_and_alive(manager, pool)


def test_tests_are_shipped_once_per_slot(sandbox_pool):
    _, pool = sandbox_pool
    tests = [{"stdin": f"{i}\n"} for i in range(50)]
    first = pool.run({"language": "python", "source": "print(int(input()) + 1)", "tests": tests}, 60)
    again = pool.run({"language": "python", "source": "print(int(input()) + 2)", "tests": tests}, 60)
    assert [t["stdout"] for t in first["tests"]] == [f"{i + 1}\n" for i in range(50)]
    assert [t["stdout"] for t in again["tests"]] == [f"{i + 2}\n" for i in range(50)]


def test_container_killed_mid_job_is_retried_or_ie_and_replaced(sandbox_pool):
    manager, pool = sandbox_pool
    replaced_before = manager.replaced
    job = python_job("import time\ntime.sleep(1.5)\nprint(input())", "survived", time_limit_s=2, wall_limit_s=4)
    results = []
    worker = threading.Thread(target=lambda: results.append(pool.run(job, 60)))
    worker.start()
    victim = None
    deadline = time.monotonic() + 10
    while victim is None and time.monotonic() < deadline:
        for container in list(manager.containers):
            try:
                if any("sol.py" in " ".join(p) for p in container.top()["Processes"] or []):
                    victim = container
                    break
            except Exception:
                pass
        time.sleep(0.05)
    assert victim is not None, "the job never started"
    victim.kill()
    worker.join(60)
    (result,) = results
    assert result["verdict"] in ("OK", "IE"), result
    if result["verdict"] == "OK":  # a complete rerun on the other slot
        assert result["attempts"] == 2 and result["tests"][0]["stdout"] == "survived\n"
    deadline = time.monotonic() + 30
    while (manager.replaced == replaced_before or len(pool.slots()) < 2) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert manager.replaced > replaced_before and len(pool.slots()) == 2
    assert victim.id not in [c.id for c in manager.containers]
    _assert_clean_and_alive(manager, pool)


# ---- issue 7 (hardening), through the containers: the cases of test_supervisor_hardening.py ----------------
def _on_each_slot(pool, job: dict, timeout: float = 60) -> list[dict]:
    """``job`` on every slot in turn (straight to its socket: the tests run one at a time)."""
    return [run_job(path, job, timeout) for path in pool.slots()]


def _next_job_passes_on_each_slot(pool, timeout: float = 30) -> None:
    for result in _on_each_slot(pool, hardening.CORRECT, timeout):
        assert (result["verdict"], result["tests"][0]["stdout"]) == ("OK", hardening.CORRECT_STDOUT), result


def test_ipc_objects_of_a_job_are_gone_for_the_next_in_containers(sandbox_pool):
    manager, pool = sandbox_pool
    made = _on_each_slot(pool, python_job(hardening.IPC_MAKE))
    assert [r["tests"][0]["stdout"] for r in made] == [hardening.IPC_MADE] * 2, made
    checked = _on_each_slot(pool, python_job(hardening.IPC_CHECK))
    assert [r["tests"][0]["stdout"] for r in checked] == [hardening.IPC_CLEAN] * 2, checked
    _next_job_passes_on_each_slot(pool)
    _assert_clean_and_alive(manager, pool)


def test_a_background_process_of_test_1_is_gone_in_test_2_in_containers(sandbox_pool):
    manager, pool = sandbox_pool
    for result in _on_each_slot(pool, hardening.BACKGROUND_JOB):
        assert [t["stdout"] for t in result["tests"]] == ["started\n", "gone\n"], result
    _next_job_passes_on_each_slot(pool)
    _assert_clean_and_alive(manager, pool)


def test_a_job_stops_at_its_deadline_in_containers(sandbox_pool):
    manager, pool = sandbox_pool
    start = time.monotonic()
    result = pool.run(hardening.SLOW_TESTS | {"deadline_s": 2.5}, 60)
    assert (result["verdict"], result.get("stopped"), result["attempts"]) == ("IE", "deadline", 1), result
    assert time.monotonic() - start < 4
    assert len(pool.slots()) == 2  # a stopped job is no fault of the slot: not recycled
    _next_job_passes_on_each_slot(pool, timeout=3)
    _assert_clean_and_alive(manager, pool)


def test_a_job_stops_when_its_caller_is_killed_in_containers(sandbox_pool):
    manager, pool = sandbox_pool
    caller = subprocess.Popen([sys.executable, "-c", (
        "import sys\nfrom rewardgym_sandboxes.pool import SandboxPool\n"
        f"SandboxPool({pool.socket_dir!r}).run({hardening.SLOW_TESTS!r}, 120)\n")])
    time.sleep(2.0)  # the job is in its second test or so: the scoring process is killed at its item's deadline
    caller.kill()
    caller.wait()
    start = time.monotonic()
    _next_job_passes_on_each_slot(pool, timeout=4)  # both slots free at once, not after ~16 more seconds
    assert time.monotonic() - start < 6
    _assert_clean_and_alive(manager, pool)


def test_output_of_many_tests_is_a_verdict_not_an_error_in_containers(sandbox_pool):
    manager, pool = sandbox_pool
    result = pool.run(hardening.NUL_OUTPUT, 180)
    assert (result["verdict"], result["attempts"]) == ("OLE", 1), {k: v for k, v in result.items() if k != "tests"}
    assert len(result["tests"]) == hardening.NUL_TESTS
    _next_job_passes_on_each_slot(pool)
    _assert_clean_and_alive(manager, pool)


def test_cpu_of_a_child_never_waited_for_counts_in_containers(sandbox_pool):
    manager, pool = sandbox_pool
    result = pool.run(hardening.BUSY_CHILD_JOB, 60)
    assert (result["verdict"], result["tests"][0]["reason"]) == ("TLE", "cpu"), result
    _next_job_passes_on_each_slot(pool)
    _assert_clean_and_alive(manager, pool)


def test_files_in_a_world_writable_subdirectory_of_tmp_are_gone_in_containers(sandbox_pool):
    manager, pool = sandbox_pool
    for container in manager.containers:  # a world-writable dir of root's, as /tmp/.X11-unix
        assert container.exec_run(["mkdir", "-m", "1777", "/tmp/rg-world"]).exit_code == 0
    try:
        wrote = _on_each_slot(pool, python_job("open('/tmp/rg-world/leak', 'w').write('x')\nprint('written')"))
        assert [r["tests"][0]["stdout"] for r in wrote] == ["written\n"] * 2, wrote
        seen = _on_each_slot(pool, python_job("import os\nprint(os.path.exists('/tmp/rg-world/leak'))"))
        assert [r["tests"][0]["stdout"] for r in seen] == ["False\n"] * 2, seen
    finally:
        for container in manager.containers:
            container.exec_run(["rm", "-rf", "/tmp/rg-world"])
    _next_job_passes_on_each_slot(pool)
    _assert_clean_and_alive(manager, pool)


def test_no_user_namespace_mount_ptrace_or_keyring_in_containers(sandbox_pool):
    manager, pool = sandbox_pool
    for result in _on_each_slot(pool, python_job(hardening.NAMESPACES)):
        attempts = ast.literal_eval(result["tests"][0]["stdout"])
        assert attempts == dict.fromkeys(attempts, hardening.EPERM), attempts
        assert result["isolation"]["seccomp"] is True
    _next_job_passes_on_each_slot(pool)
