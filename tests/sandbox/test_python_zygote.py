"""The Python zygote (one interpreter per job, one fork per test) against the normal path (fork + exec of
``python3 -I -S sol.py`` per test): the same verdicts, exit codes, stdout and stderr for a table of programs;
the zygote's own guarantees (non-dumpable, killed after the job); falling back to exec when it dies."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from sandbox_support import needs_root, python_job

from test_supervisor_hostile import assert_clean_and_alive, assert_launcher_healthy

THREAD_AFTER_MAIN = """
import threading, time
def late():
    time.sleep(0.05)
    print("thread done")
threading.Thread(target=late).start()
print("main done")
"""
DEL_AT_EXIT = """
class Noisy:
    def __del__(self):
        print("deleted", flush=True)
keep = Noisy()
print("end of main")
"""
ATEXIT = """
import atexit, sys
atexit.register(lambda: print("atexit", file=sys.stderr))
atexit.register(print, "atexit on stdout")
print("main")
"""
UNFLUSHED_GLOBAL_FILE = """
import sys
out = open(1, "w", closefd=False)
out.write("pending in a global file object\\n")
sys.stdout.write("no newline, no flush")
"""
REPLACED_STDOUT = """
import sys
sys.stdout = open(sys.stdout.fileno(), "w", buffering=1 << 16, closefd=False)
for i in range(3):
    print(i)
"""
CHAINED = """
def parse(s):
    try:
        return int(s)
    except ValueError as exc:
        raise RuntimeError("bad input") from exc
try:
    parse("x")
finally:
    print("finally ran")
"""
DEPTH = """
def depth(n):
    try:
        return depth(n + 1)
    except RecursionError:
        return n
print(depth(0))
"""
INTROSPECTION = """
import os, sys
print(sys.argv, sys.path, sys.orig_argv, sys.flags)
print(__name__, os.path.basename(__file__), __loader__.name, __spec__, __package__, __cached__, list(globals()))
print(sorted(sys.modules))
print(sorted(os.environ), oct(os.umask(0o077)), os.path.basename(os.getcwd()).startswith("job-"))
print(os.getsid(0) == os.getpid() == os.getpgid(0), sorted(os.listdir("/proc/self/fd")))
print(sys.stdin.seekable(), sys.stdout.line_buffering, sys.stderr.line_buffering, sys.stdout.encoding,
      sys.stdout.errors, sys.stdin.name, sys.stdout.buffer.raw._blksize)
import resource, signal
print([resource.getrlimit(getattr(resource, name)) for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_STACK",
       "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE")])
print([str(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM)])
print(signal.pthread_sigmask(signal.SIG_BLOCK, []))
"""

# name -> (source, stdins, per-test limits)
PROGRAMS = {
    "hello": ("print('hello')", [""], {}),
    "input lines": ("a = input()\nb = input()\nprint(int(a) + int(b))", ["1\n2\n", "40\n2\n"], {}),
    "input past the end (EOFError)": ("print(input())\nprint(input())", ["only one line\n"], {}),
    "stdin read at once": ("import sys\ndata = sys.stdin.buffer.read()\nprint(len(data), data[-3:])",
                           ["x" * 100000 + "\nend"], {}),
    "open(0)": ("print(sum(map(int, open(0).read().split())))", ["1 2 3\n4 5\n"], {}),
    "main guard": ("def main():\n    print('in main', __name__)\nif __name__ == '__main__':\n    main()", [""], {}),
    "sys.exit(3)": ("import sys\nprint('before')\nsys.exit(3)", [""], {}),
    "sys.exit(0)": ("import sys\nsys.exit(0)", [""], {}),
    "sys.exit()": ("import sys\nsys.exit()", [""], {}),
    "sys.exit(True)": ("import sys\nsys.exit(True)", [""], {}),
    "sys.exit(256)": ("import sys\nsys.exit(256)", [""], {}),
    "sys.exit(-1)": ("import sys\nsys.exit(-1)", [""], {}),
    "sys.exit('message')": ("import sys\nsys.exit('bad things')", [""], {}),
    "raise SystemExit(7) in a function": ("def f():\n    raise SystemExit(7)\ntry:\n    f()\nfinally:\n"
                                          "    print('cleanup')", [""], {}),
    "os._exit(5) drops buffered output": ("import os\nprint('lost')\nos._exit(5)", [""], {}),
    "exit() is not defined without site": ("exit(0)", [""], {}),
    "uncaught exception": ("x = [1, 2]\nprint('start')\nprint(x[5])", [""], {}),
    "chained exception and finally": (CHAINED, [""], {}),
    "KeyboardInterrupt": ("print('x')\nraise KeyboardInterrupt", [""], {}),
    "syntax error": ("print((", [""], {}),
    "indentation error": ("if True:\nprint(1)", [""], {}),
    "coding cookie": ("# -*- coding: latin-1 -*-\nprint('é', len('é'))", [""], {}),
    "byte order mark": ("\ufeffprint('bom')", [""], {}),
    "warning on stderr": ("import warnings\nwarnings.warn('careful')\nprint('ok')", [""], {}),
    "large output": ("import sys\nsys.stdout.write('\\n'.join(map(str, range(200000))))", [""], {}),
    "output cap": ("print('y' * 5000)", [""], {"output_limit_bytes": 1000}),
    "unicode": ("print('héllo ✓ 世界', input())", ["ünï\n"], {}),
    "default recursion depth": (DEPTH, [""], {}),
    "deep recursion, limit raised": ("import sys\nsys.setrecursionlimit(10**6)\n"
                                     "def d(n): return 0 if n == 0 else 1 + d(n - 1)\nprint(d(100000))", [""], {}),
    "infinite recursion": ("def f(n): return f(n + 1)\nf(0)", [""], {}),
    "memory error": ("a = bytearray(2 * 10**9)", [""], {}),
    "cpu time limit": ("while True: pass", [""], {"time_limit_s": 0.5}),
    "sleep past the wall": ("import time\ntime.sleep(5)", [""], {"time_limit_s": 0.3, "wall_limit_s": 0.6}),
    "non-daemon thread after main": (THREAD_AFTER_MAIN, [""], {}),
    "thread with a stack size": ("import threading\nthreading.stack_size(1 << 20)\nr = []\n"
                                 "t = threading.Thread(target=lambda: r.append(sum(range(10))))\n"
                                 "t.start(); t.join(); print(r)", [""], {}),
    "__del__ at exit": (DEL_AT_EXIT, [""], {}),
    "atexit": (ATEXIT, [""], {}),
    "unflushed output in a global file": (UNFLUSHED_GLOBAL_FILE, [""], {}),
    "sys.stdout replaced": (REPLACED_STDOUT, [""], {}),
    "kill the parent": ("import os\nos.kill(os.getppid(), 9)", [""], {}),
    "files in the work dir": ("open('f.txt', 'w').write(input())\nprint(open('f.txt').read())", ["abc\n"], {}),
    "introspection": (INTROSPECTION, [""], {}),
    "per-test limits differ": ("import sys\na = bytearray(int(input()) * 2**20)\nprint(len(a) >> 20)",
                               ["100\n", "300\n"], None),
}

_WORKDIR = re.compile(r"/tmp/rewardgym-sandbox-test-\d+/job-\d+")


def _normalize(test: dict) -> tuple:
    stderr = _WORKDIR.sub("<job>", test["stderr"])
    if test["verdict"] == "OLE":  # killed at the cap, or exited just before: either way (both paths)
        return test["verdict"], test["reason"], test["stdout"], test["stdout_truncated"]
    return (test["verdict"], test["reason"], test["exit_code"], test["signal"], test["stdout"],
            test["stdout_truncated"], stderr)


def _job(name: str) -> dict:
    source, stdins, limits = PROGRAMS[name]
    if limits is None:  # the memory limit changes from test to test within the job
        return {"language": "python", "source": source,
                "tests": [{"stdin": "100\n", "memory_limit_mb": 512}, {"stdin": "300\n", "memory_limit_mb": 128},
                          {"stdin": "100\n", "memory_limit_mb": 128}, {"stdin": "300\n", "memory_limit_mb": 512}]}
    return python_job(source, *stdins, **limits)


def test_source_with_a_nul_byte_runs_by_exec(supervisor, supervisor_exec):
    """The interpreter's file reader stops lines at a NUL byte in its own way: such jobs skip the zygote."""
    job = python_job("print(1)\x00print(2)\nprint(3)\n")
    by_zygote, by_exec = supervisor.run(job), supervisor_exec.run(job)
    assert by_zygote["tests"][0]["runner"] == "exec"
    assert [_normalize(t) for t in by_zygote["tests"]] == [_normalize(t) for t in by_exec["tests"]]


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_zygote_and_exec_agree(supervisor, supervisor_exec, name):
    job = _job(name)
    by_zygote, by_exec = supervisor.run(job), supervisor_exec.run(job)
    assert [t["runner"] for t in by_zygote["tests"]] == ["zygote"] * len(job["tests"]), by_zygote
    assert [t["runner"] for t in by_exec["tests"]] == ["exec"] * len(job["tests"])
    assert [_normalize(t) for t in by_zygote["tests"]] == [_normalize(t) for t in by_exec["tests"]]
    assert by_zygote["verdict"] == by_exec["verdict"]


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_forked_and_execd_zygotes_agree(supervisor, supervisor_no_launcher, name):
    """A zygote forked by the root launcher behaves as one exec'd per job (``--zygote-launcher off``)."""
    job = _job(name)
    forked, execd = supervisor.run(job), supervisor_no_launcher.run(job)
    assert [t["runner"] for t in forked["tests"]] == ["zygote"] * len(job["tests"]), forked
    assert [t["runner"] for t in execd["tests"]] == ["zygote"] * len(job["tests"]), execd
    assert [_normalize(t) for t in forked["tests"]] == [_normalize(t) for t in execd["tests"]]


def test_expected_verdicts_of_the_table(supervisor):
    """The table's programs do what they are meant to through the zygote (not only agree with exec)."""
    verdicts = {name: [t["verdict"] for t in supervisor.run(_job(name))["tests"]] for name in (
        "sys.exit(3)", "sys.exit(0)", "uncaught exception", "memory error", "cpu time limit",
        "sleep past the wall", "output cap", "per-test limits differ", "infinite recursion")}
    assert verdicts == {
        "sys.exit(3)": ["RE"], "sys.exit(0)": ["OK"], "uncaught exception": ["RE"], "memory error": ["MLE"],
        "cpu time limit": ["TLE"], "sleep past the wall": ["TLE"], "output cap": ["OLE"],
        "per-test limits differ": ["OK", "MLE", "OK", "OK"], "infinite recursion": ["RE"],
    }
    result = supervisor.run(_job("sys.exit(3)"))
    assert result["tests"][0]["exit_code"] == 3
    result = supervisor.run(_job("uncaught exception"))
    stderr = result["tests"][0]["stderr"]
    assert stderr.startswith("Traceback (most recent call last):\n  File \"/") and "sol.py\", line 3" in stderr
    assert "zygote" not in stderr and "<string>" not in stderr and stderr.endswith("IndexError: list index out of range\n")


def test_cpu_time_is_the_programs_own(supervisor):
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\nprint('done')"
    result = supervisor.run(python_job(busy, "", ""))
    for test in result["tests"]:
        assert test["runner"] == "zygote" and test["verdict"] == "OK"
        assert 280 <= test["cpu_ms"] <= 600 and test["wall_ms"] >= 280 and test["memory_kb"] > 1000


@needs_root
def test_zygote_killed_mid_job_falls_back_to_exec(supervisor):
    # kill(-1) from the first test kills every other process of the uid: the zygote too.
    source = "import os, signal\nn = int(input())\nif n == 1:\n    os.kill(-1, signal.SIGKILL)\nprint(n * 2)"
    result = supervisor.run(python_job(source, "1\n", "2\n", "3\n"))
    assert [t["verdict"] for t in result["tests"]] == ["OK", "OK", "OK"], result
    assert [t["stdout"] for t in result["tests"]] == ["2\n", "4\n", "6\n"]
    assert [t["runner"] for t in result["tests"]] == ["zygote", "exec", "exec"]
    assert_clean_and_alive(supervisor)


@needs_root
def test_zygote_is_not_dumpable_and_gone_after_the_job(supervisor):
    """A program cannot read the zygote's memory or fds (same uid, but the zygote is non-dumpable); it can
    signal it, which only makes the rest of its own job run by exec."""
    source = """
import os
me, uid = os.getpid(), os.getuid()
others = []
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        status = open(f'/proc/{pid}/status').read()
    except OSError:
        continue
    if int(pid) != me and f'Uid:\\t{uid}\\t' in status:
        others.append(pid)
print('others', len(others))
for pid in others:
    for what in ('mem', 'environ', 'fd', 'maps'):
        path = f'/proc/{pid}/{what}'
        try:
            os.listdir(path) if what == 'fd' else open(path, 'rb').read(1)
            print('READ', what)
        except OSError as exc:
            print('denied', what, type(exc).__name__)
"""
    result = supervisor.run(python_job(source))
    out = result["tests"][0]["stdout"]
    assert result["tests"][0]["runner"] == "zygote"
    assert out.startswith("others 1\n"), out  # the zygote
    assert "READ" not in out and out.count("denied") == 4, out
    assert_clean_and_alive(supervisor)


def test_info_reports_the_zygote(supervisor, supervisor_exec):
    from rewardgym_sandboxes.client import supervisor_info
    assert supervisor_info(supervisor.socket)["python_zygote"] is True
    assert supervisor_info(supervisor_exec.socket)["python_zygote"] is False


HUNT_THE_LAUNCHER = """
import os, signal
me = os.getpid()
roots, chain, pid = [], [], me
for name in filter(str.isdigit, os.listdir('/proc')):
    try:
        status = open(f'/proc/{name}/status').read()
    except OSError:
        continue
    if '\\nUid:\\t0\\t' in status:
        roots.append(int(name))
while pid > 1:  # our ancestors
    try:
        status = open(f'/proc/{pid}/status').read()
    except OSError:
        break
    pid = int(status.split('\\nPPid:\\t')[1].split()[0])
    chain.append(pid)
print('roots', sorted(roots))
print('ancestors', chain)
for target in roots + chain[:2]:
    for sig in (0, signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):
        try:
            os.kill(target, sig)
            print('SIGNALLED', target, sig)
        except (PermissionError, ProcessLookupError):
            pass
    for what in ('mem', 'environ', 'fd', 'maps', 'cmdline'):
        try:
            path = f'/proc/{target}/{what}'
            got = os.listdir(path) if what == 'fd' else open(path, 'rb').read(1)
            if got and what != 'cmdline':  # (kernel threads have no memory to show: an empty read)
                print('READ', target, what)
        except OSError:
            pass
    try:
        group = os.getpgid(target)
        if group > 1 and group != os.getpgid(0):  # (kernel threads are in group 0: killpg(0) is our own)
            os.killpg(group, signal.SIGKILL)
            print('SIGNALLED group of', target)
    except (PermissionError, ProcessLookupError):
        pass
if input() == 'kill everything':
    os.kill(-1, signal.SIGKILL)
print('done')
"""


@needs_root
def test_programs_cannot_signal_or_read_the_launcher(supervisor):
    """The launcher is root: a program (the sandbox uid) may see its pid in /proc, as it sees the
    supervisor's, but cannot signal it, ptrace it or read its memory, fds or environment; it is not an
    ancestor of any sandbox process (the zygote and the tests are the supervisor's children); kill(-1) and
    fork bombs do not reach it. It survives all of that and forks the next job's zygote."""
    assert supervisor.run(python_job("print(1)"))["tests"][0]["runner"] == "zygote"
    before = assert_launcher_healthy(supervisor)
    launcher = before["pid"]
    with open(f"/proc/{launcher}/cmdline", "rb") as f:
        assert b"launcher" in f.read()
    fds = sorted(os.listdir(f"/proc/{launcher}/fd"), key=int)  # stdio and its control socket, nothing else
    assert fds[:3] == ["0", "1", "2"] and len(fds) == 4, fds
    assert os.readlink(f"/proc/{launcher}/fd/{fds[3]}").startswith("socket:")
    with open(f"/proc/{launcher}/environ", "rb") as f:
        assert sorted(f.read().split(b"\0")[:-1]) == [b"LANG=C.UTF-8", b"PATH=/usr/local/bin:/usr/bin:/bin"]
    result = supervisor.run(python_job(HUNT_THE_LAUNCHER, "look", "kill everything", "look"))
    tests = result["tests"]
    assert [t["runner"] for t in tests] == ["zygote", "zygote", "exec"], tests  # kill(-1) took the zygote
    out = tests[0]["stdout"]
    assert "SIGNALLED" not in out and "READ" not in out, out
    roots = eval(out.splitlines()[0].removeprefix("roots "))
    ancestors = eval(out.splitlines()[1].removeprefix("ancestors "))
    assert launcher in roots  # visible, like every process of the pid namespace
    assert ancestors[0] == supervisor.process.pid and launcher not in ancestors, out
    assert all(t["verdict"] == "OK" and t["stdout"].endswith("done\n") for t in tests), tests  # kill(-1) spares its caller
    for hostile in ("import os\nwhile True:\n    try: os.fork()\n    except OSError: pass",
                    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)"):
        supervisor.run(python_job(hostile, time_limit_s=1))
    assert_clean_and_alive(supervisor)
    after = assert_launcher_healthy(supervisor)
    if after["starts"] == before["starts"]:  # (else replaced after LAUNCHER_MAX_FORKS, not killed: no failure)
        assert after["pid"] == launcher
    assert after["forks"] > before["forks"]


@needs_root
def test_launcher_killed_restarts_and_the_job_uses_an_execd_zygote(supervisor_scratch):
    from rewardgym_sandboxes.client import supervisor_info
    sup = supervisor_scratch
    assert sup.run(python_job("print(1)"))["tests"][0]["runner"] == "zygote"
    before = supervisor_info(sup.socket)["zygote_launcher"]
    os.kill(before["pid"], signal.SIGKILL)
    time.sleep(0.05)
    for stdin in ("2\n", "3\n"):  # the first: a failed fork, the exec'd zygote; the second: a new launcher
        result = sup.run(python_job("print(int(input()) * 2)", stdin, stdin))
        assert result["verdict"] == "OK" and [t["runner"] for t in result["tests"]] == ["zygote"] * 2, result
        assert result["tests"][0]["stdout"] == str(int(stdin) * 2) + "\n"
    after = supervisor_info(sup.socket)["zygote_launcher"]
    assert after["pid"] != before["pid"] and after["starts"] == before["starts"] + 1, (before, after)
    assert after["forks"] == before["forks"] + 1 and after["failures"] == 1, (before, after)
    with open(f"/proc/{after['pid']}/status") as f:
        assert "\nUid:\t0\t0\t0\t0\n" in f.read()
    assert sup.leftovers()["processes"] == []
    # stopped rather than killed: the fork request times out, the job still runs; the launcher is replaced
    os.kill(after["pid"], signal.SIGSTOP)
    result = sup.run(python_job("print('ok')"))
    assert result["verdict"] == "OK" and result["tests"][0]["runner"] == "zygote", result
    last = supervisor_info(sup.socket)["zygote_launcher"]
    assert last["pid"] not in (None, after["pid"]) and last["failures"] == 2, last
    assert not os.path.exists(f"/proc/{after['pid']}")
