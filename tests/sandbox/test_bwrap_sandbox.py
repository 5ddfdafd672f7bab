"""The supervisor inside bubblewrap (the local fallback without Docker): the hostile suite passes there as it does
in containers, and a program finds no host file (decoys with a known string in the test's temp dir, in /tmp and in
the project dir), cannot reach the server's sockets or the supervisor's files, and cannot see another slot's
processes."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import socket
import subprocess
from pathlib import Path

import pytest
from sandbox_support import REPO, _running_supervisor, needs_root, python_job
from test_supervisor_hostile import (  # noqa: F401  (the hostile suite again, against the bwrap supervisor below)
    assert_clean_and_alive,
    test_files_in_tmp_and_shm_are_gone_for_the_next_job,
    test_hostile_program,
    test_loopback_network_is_unreachable,
    test_supervisor_source_and_environment_are_hidden,
    test_writing_outside_the_work_dir_fails,
)

pytestmark = [pytest.mark.bwrap, needs_root]


@pytest.fixture(scope="module")
def supervisor(tmp_path_factory):
    """Overrides the session supervisor of conftest: the same supervisor, under bwrap."""
    yield from _running_supervisor(tmp_path_factory, bwrap=True)


@pytest.fixture(scope="module")
def other_slot(tmp_path_factory):
    yield from _running_supervisor(tmp_path_factory, bwrap=True)


WALKER = """
import os, stat
needle = {needle!r}
own = os.getcwd()  # the job's work dir holds this very source, needle included
found = []
for path in {paths!r}:
    try:
        with open(path, 'rb') as f:
            found.append(('opened', path, needle.encode() in f.read()))
    except OSError as exc:
        pass
for top, dirs, files in os.walk('/'):
    if top in ('/proc', '/sys', '/usr', own) or top.startswith(('/proc/', '/sys/', '/usr/', own + '/')):
        dirs[:] = []
        continue
    for name in files:
        path = os.path.join(top, name)
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_size < 1 << 20:
                with open(path, 'rb') as f:
                    if needle.encode() in f.read():
                        found.append(('content', path))
        except OSError:
            pass
        if 'rg-decoy' in name:
            found.append(('name', path))
print('FOUND', found)
"""


def test_no_host_file_is_found_by_walking_the_file_system(supervisor, tmp_path):
    needle = f"expected-output-{secrets.token_hex(8)}"
    decoys = [tmp_path / "rg-decoy-answers.txt", Path(f"/tmp/rg-decoy-{secrets.token_hex(4)}.txt"),
              REPO / f".rg-decoy-{secrets.token_hex(4)}.txt"]
    try:
        for decoy in decoys:
            decoy.write_text(f"the hidden test's answer: {needle}\n")
            decoy.chmod(0o644)  # world-readable, as training data on a cluster file system usually is
        source = WALKER.format(needle=needle, paths=[str(d) for d in decoys])
        result = supervisor.run(python_job(source, time_limit_s=10, wall_limit_s=30), timeout=90)
    finally:
        for decoy in decoys:
            decoy.unlink(missing_ok=True)
    assert result["verdict"] == "OK", result
    assert result["tests"][0]["stdout"] == "FOUND []\n", result
    assert_clean_and_alive(supervisor)


def test_only_the_toolchains_are_mounted(supervisor):
    source = ("import json, os\nprint(json.dumps(os.listdir('/')))\nprint(os.listdir('/etc'))\n"
              "print(os.path.exists('/home'))")
    out = supervisor.run(python_job(source))["tests"][0]["stdout"].splitlines()
    top = set(json.loads(out[0]))
    assert top <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "opt", "proc", "sbin", "sys", "tmp",
                   "usr", "var"}, top
    assert "passwd" not in out[1] and "shadow" not in out[1], out
    assert out[2] == "False"


def test_server_sockets_and_supervisor_files_are_out_of_reach(supervisor, tmp_path):
    server_socket = tmp_path / "gateway.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(server_socket))
        listener.listen(1)
        targets = [str(server_socket), supervisor.socket, str(Path(supervisor.socket).parent)]
        source = f"""
import os, socket
for path in {targets!r}:
    for attempt in ('connect', 'list', 'read'):
        try:
            if attempt == 'connect':
                socket.socket(socket.AF_UNIX).connect(path)
            elif attempt == 'list':
                os.listdir(path)
            else:
                open(path, 'rb').read()
            print('REACHED', attempt, path)
        except OSError:
            pass
for path in ['/opt/rewardgym-supervisor', '/opt/rewardgym-supervisor/rewardgym_sandboxes/supervisor/server.py']:
    try:
        os.listdir(path) if not path.endswith('.py') else open(path).read()
        print('REACHED', path)
    except OSError:
        pass
print('done')
"""
        out = supervisor.run(python_job(source))["tests"][0]["stdout"]
    assert out == "done\n", out
    assert_clean_and_alive(supervisor)


def test_other_slots_processes_are_invisible(supervisor, other_slot):
    source = """
import os
seen = []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            seen.append(open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode())
        except OSError:
            seen.append('?')
print(len(seen))
print('\\n'.join(seen))
"""
    out = supervisor.run(python_job(source))["tests"][0]["stdout"]
    count, *cmdlines = out.splitlines()
    text = "\n".join(cmdlines)
    assert other_slot.socket not in text and "-m pytest" not in text, text
    assert supervisor.socket in text  # its own supervisor: the namespace is the slot's, nothing else
    assert int(count) < 10, text
    assert_clean_and_alive(supervisor)


def test_the_isolation_in_force(supervisor):
    iso = supervisor.isolation
    assert (iso["netns"], iso["ipcns"], iso["seccomp"], iso["no_new_privs"]) == (True, True, True, True), iso
    assert iso["uid"] == supervisor.uid and iso["source_private"] is True, iso
    assert "/tmp" in iso["private_tmp"], iso
    assert os.path.exists(supervisor.view("/opt/rewardgym-supervisor"))


UNPRIVILEGED = """
import json, sys
sys.path.insert(0, {sandboxes!r})
from rewardgym_sandboxes.pool import LocalSupervisors, SandboxPool
local = LocalSupervisors(1, bwrap=True)
try:
    source = "import os\\nprint(os.getuid(), os.path.exists({decoy!r}), os.path.exists('/work'), os.listdir('/tmp'))"
    result = SandboxPool(local.socket_dir).run({{"language": "python", "source": source, "tests": [{{}}]}}, 60)
    print(json.dumps(result))
finally:
    local.stop()
"""


def test_an_unprivileged_user_gets_the_same_file_isolation(tmp_path):
    """As a user without root (an HPC user), bwrap maps that user into a user namespace: no host file either."""
    home = tmp_path / "home"
    home.mkdir(mode=0o777)
    decoy = Path(f"/tmp/rg-decoy-{secrets.token_hex(4)}")
    decoy.write_text("answer")
    decoy.chmod(0o644)
    script = UNPRIVILEGED.format(sandboxes=str(REPO / "sandboxes"), decoy=str(decoy))
    try:
        done = subprocess.run(["runuser", "-u", "nobody", "--", "env", f"HOME={home}", f"TMPDIR={home}",
                               "/usr/bin/python3", "-c", script], capture_output=True, text=True, timeout=120)
    finally:
        decoy.unlink()
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    uid, decoy_seen, work_seen, tmp = result["tests"][0]["stdout"].split(" ", 3)
    assert (uid, decoy_seen, work_seen) == (str(pwd.getpwnam("nobody").pw_uid), "False", "False"), result
    assert result["isolation"]["seccomp"] and result["isolation"]["no_new_privs"], result
