"""Hostile programs: each gets the right verdict, leaves no process of the sandbox uid and no file behind,
and the next job still works."""

from __future__ import annotations

import os
import socket
import time

import pytest
from sandbox_support import needs_root, python_job

pytestmark = needs_root

FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
THREAD_BOMB = """
import threading, time
while True:
    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()
"""
DAEMON = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for fd in (0, 1, 2):
            os.close(fd)
        while True:
            with open("/tmp/rg-daemon-alive", "w") as f:
                f.write(str(os.getpid()))
            time.sleep(0.02)
    os._exit(0)
time.sleep(0.1)
print("parent done")
"""
CPP_MEMORY_BOMB = """
#include <vector>
int main() { std::vector<std::vector<char>> v; while (true) v.emplace_back(1 << 20, 1); }
"""
CPP_GIGABYTE_OUT = """
#include <cstdio>
int main() { static char b[1 << 20]; for (int i = 0; i < 1024; i++) fwrite(b, 1, sizeof b, stdout); }
"""
CPP_FILL_DISK = """
#include <cstdio>
int main() { FILE* f = fopen("big", "wb"); static char b[1 << 20]; while (true) fwrite(b, 1, sizeof b, f); }
"""
CPP_DEEP_RECURSION = """
#include <cstdio>
int depth(int n) { volatile char pad[64]; pad[0] = n & 1; return n == 0 ? pad[0] : depth(n - 1) + 1 + pad[0]; }
int main() { printf("%d\\n", depth(1000000)); }
"""
PY_DEEP_RECURSION = """
import sys
sys.setrecursionlimit(10**6)
def depth(n): return 0 if n == 0 else 1 + depth(n - 1)
print(depth(100000))
"""
TEMPLATE_BOMB = """
template <int N> struct F { enum { v = F<N - 1>::v + F<N - 2>::v }; };
template <> struct F<0> { enum { v = 0 }; };
template <> struct F<1> { enum { v = 1 }; };
int main() { return F<100000>::v; }
"""


def _job(language: str, source: str, **limits) -> dict:
    return {"language": language, "source": source, "tests": [{"stdin": "", **limits}],
            "compile_time_limit_s": 2}


# name -> (job, allowed verdicts, max seconds the job may take)
HOSTILE = {
    "fork bomb": (_job("python", FORK_BOMB, time_limit_s=1), {"RE", "TLE"}, 8),
    "thread bomb": (_job("python", THREAD_BOMB, time_limit_s=1), {"RE", "TLE", "MLE"}, 8),
    "python memory bomb": (_job("python", "a = []\nwhile True: a.append(bytearray(10**6))"), {"MLE"}, 5),
    "python one huge allocation": (_job("python", "a = bytearray(10**10)"), {"MLE"}, 5),
    "cpp memory bomb": (_job("cpp", CPP_MEMORY_BOMB), {"MLE"}, 8),
    "javascript heap bomb": (_job("javascript", "const a = []; while (true) a.push({x: [1, 2, 3]});",
                                  memory_limit_mb=128, time_limit_s=4), {"MLE"}, 15),
    "javascript buffer bomb": (_job("javascript", "const a = []; while (true) a.push(Buffer.alloc(1 << 20, 1));"),
                               {"MLE"}, 8),
    "infinite loop": (_job("python", "while True: pass", time_limit_s=1), {"TLE"}, 5),
    "sleep forever": (_job("python", "import time\ntime.sleep(10**6)", time_limit_s=1), {"TLE"}, 5),
    "1 GB to stdout": (_job("cpp", CPP_GIGABYTE_OUT), {"OLE"}, 6),
    "fill the disk (python)": (_job("python", "b = b'x' * 2**20\nwith open('big', 'wb') as f:\n"
                                              "    while True: f.write(b)"), {"RE", "OLE"}, 8),
    "fill the disk (cpp)": (_job("cpp", CPP_FILL_DISK), {"RE", "OLE"}, 8),
    "kill(-1, SIGKILL)": (_job("python", "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('alive')"),
                          {"OK"}, 5),
    "double-forked daemon": (_job("python", DAEMON), {"OK"}, 5),
    "deep recursion (cpp, stack = memory limit)": (_job("cpp", CPP_DEEP_RECURSION), {"OK"}, 8),
    "deep recursion (python, recursion limit raised)": (_job("python", PY_DEEP_RECURSION), {"OK"}, 5),
    "infinite recursion (python)": (_job("python", "import sys\nsys.setrecursionlimit(10**9)\n"
                                                   "def f(n): return f(n + 1) + 1\nf(0)", time_limit_s=1),
                                    {"MLE", "RE", "TLE"}, 6),
    "compile bomb: #include </dev/urandom>": (_job("cpp", "#include </dev/urandom>\nint main() {}"), {"CE"}, 5),
    "compile bomb: template recursion": (_job("cpp", TEMPLATE_BOMB), {"CE"}, 5),
}


def assert_clean_and_alive(supervisor) -> None:
    assert supervisor.leftovers() == {"processes": [], "shared_files": [], "work_dirs": []}
    assert supervisor.process.poll() is None, "the supervisor died"
    result = supervisor.run(python_job("print(input()[::-1])", "olleh"))
    assert (result["verdict"], result["tests"][0]["stdout"]) == ("OK", "hello\n")
    assert_launcher_healthy(supervisor)


def assert_launcher_healthy(supervisor) -> dict | None:
    """The zygote launcher (root) is alive, never failed, and still forks the jobs' zygotes."""
    from rewardgym_sandboxes.client import supervisor_info
    launcher = supervisor_info(supervisor.socket)["zygote_launcher"]
    if launcher is None:
        return None
    assert launcher["failures"] == 0 and launcher["forks"] > 0, launcher
    with open(f"/proc/{supervisor.host_pid(launcher['pid'])}/status") as f:
        status = f.read()
    assert os.geteuid() != 0 or "\nUid:\t0\t0\t0\t0\n" in status, status
    assert f"\nPPid:\t{supervisor.pid}\n" in status, status
    return launcher


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_program(supervisor, name):
    job, verdicts, max_seconds = HOSTILE[name]
    if name == "javascript buffer bomb" and not supervisor.isolation["cgroup"]:
        pytest.skip("memory outside V8's heap is only bounded by the slot's cgroup")
    start = time.monotonic()
    result = supervisor.run(job)
    elapsed = time.monotonic() - start
    assert result["verdict"] in verdicts, result
    assert elapsed < max_seconds
    if job["language"] == "python":  # the hostile programs run through the per-job zygote (one fork each)
        assert result["tests"][0]["runner"] == "zygote", result
    if result["verdict"] == "OK" and "recursion" in name:
        assert result["tests"][0]["stdout"].strip().isdigit()
    time.sleep(0.1)  # a daemon that survived would have re-created its marker by now
    assert not os.path.exists(supervisor.view("/tmp/rg-daemon-alive"))
    assert_clean_and_alive(supervisor)


def test_loopback_network_is_unreachable(supervisor):
    if not supervisor.isolation["netns"]:
        pytest.skip("no network namespace in force")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        source = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=1)\n"
                  "    print('connected')\nexcept OSError as exc:\n    print('blocked', exc)") % port
        result = supervisor.run(python_job(source))
    assert result["tests"][0]["stdout"].startswith("blocked"), result
    assert_clean_and_alive(supervisor)


def test_supervisor_source_and_environment_are_hidden(supervisor):
    source = f"""
import os
for path in [{str(supervisor.source_dir / 'server.py')!r}, {supervisor.socket!r},
             '/proc/{supervisor.process.pid}/environ', '/proc/1/environ']:
    try:
        open(path, 'rb').read()
        print('READ', path)
    except OSError as exc:
        print('denied', type(exc).__name__)
print(sorted(os.environ))
"""
    result = supervisor.run(python_job(source))
    out = result["tests"][0]["stdout"]
    assert "READ" not in out and supervisor.secret not in out, out
    assert out.splitlines()[-1] == "['HOME', 'LANG', 'PATH', 'TMPDIR']"
    assert result["isolation"]["source_private"] is True
    assert_clean_and_alive(supervisor)


def test_writing_outside_the_work_dir_fails(supervisor):
    targets = [str(supervisor.source_dir / "evil.py"), str(supervisor.work_root / "evil"),
               f"/usr/local/rg-evil-{supervisor.uid}", "/etc/rg-evil", "/root/rg-evil"]
    source = f"""
for path in {targets!r}:
    try:
        open(path, 'w').write('x')
        print('WROTE', path)
    except OSError as exc:
        print('denied', type(exc).__name__)
open('inside.txt', 'w').write('fine')
print(open('inside.txt').read())
"""
    result = supervisor.run(python_job(source))
    out = result["tests"][0]["stdout"]
    assert "WROTE" not in out and out.endswith("fine\n"), out
    assert not any(os.path.exists(t) or os.path.exists(supervisor.view(t)) for t in targets)
    assert_clean_and_alive(supervisor)


def test_files_in_tmp_and_shm_are_gone_for_the_next_job(supervisor):
    paths = [f"/tmp/rg-left-{supervisor.uid}", f"/dev/shm/rg-left-{supervisor.uid}",
             f"/var/tmp/rg-left-{supervisor.uid}", f"/tmp/rg-left-dir-{supervisor.uid}"]
    write = (f"import os\nos.mkdir({paths[3]!r})\nopen({paths[3]!r} + '/f', 'w').write('x')\n"
             f"for p in {paths[:3]!r}:\n    open(p, 'w').write('x')\nprint('written')")
    assert supervisor.run(python_job(write))["tests"][0]["stdout"] == "written\n"
    assert not any(os.path.exists(p) or os.path.exists(supervisor.view(p)) for p in paths)
    check = f"import os\nprint([os.path.exists(p) for p in {paths!r}])"
    assert supervisor.run(python_job(check))["tests"][0]["stdout"] == "[False, False, False, False]\n"
    assert_clean_and_alive(supervisor)
