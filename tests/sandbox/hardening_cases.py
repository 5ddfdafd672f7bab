"""Programs and jobs of the issue-7 regression tests, shared by the local supervisor's tests
(test_supervisor_hardening.py) and the container pool's (test_pool_docker.py). Each hostile job is followed, in
the tests, by CORRECT on the same slot."""

from __future__ import annotations

from sandbox_support import python_job

CORRECT = python_job("print(input()[::-1])", "olleh")
CORRECT_STDOUT = "hello\n"

# ---- finding 3: IPC objects and background processes do not outlive their job / test ----------------------
IPC_KEYS = (0x52470001, 0x52470002, 0x52470003)
IPC_MAKE = f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget({IPC_KEYS[0]}, 32 << 20, 0o1600)
ctypes.memset(libc.shmat(shm, None, 0), 1, 32 << 20)  # 32 MB charged to whoever keeps the segment
msq = libc.msgget({IPC_KEYS[1]}, 0o1600)
sem = libc.semget({IPC_KEYS[2]}, 1, 0o1600)
mq = libc.mq_open(b"/rg-left", os.O_CREAT | os.O_RDWR, 0o600, None)
print(shm >= 0, msq >= 0, sem >= 0, mq >= 0)
"""
IPC_CHECK = f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
found = [libc.shmget({IPC_KEYS[0]}, 0, 0) >= 0, libc.msgget({IPC_KEYS[1]}, 0) >= 0,
         libc.semget({IPC_KEYS[2]}, 0, 0) >= 0, libc.mq_open(b"/rg-left", os.O_RDONLY, 0, None) >= 0]
rows = sum(len(open(f"/proc/sysvipc/{{kind}}").read().splitlines()) - 1 for kind in ("shm", "msg", "sem"))
print(found, rows)
"""
IPC_MADE, IPC_CLEAN = "True True True True\n", "[False, False, False, False] 0\n"

BACKGROUND = """
import ctypes, os, time
if input() == "start":
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, b"rg-background", 0, 0, 0)  # PR_SET_NAME
            for fd in (0, 1, 2):
                os.close(fd)
            time.sleep(60)
        os._exit(0)
    time.sleep(0.2)
    print("started")
else:
    alive = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and open(f"/proc/{pid}/comm").read().strip() == "rg-background":
                alive.append(pid)
        except OSError:
            pass
    print("alive" if alive else "gone")
"""
BACKGROUND_JOB = python_job(BACKGROUND, "start", "check")

# ---- finding 4: a job stops at its deadline, or when its caller hangs up ----------------------------------
SLOW_TESTS = python_job("import time\ntime.sleep(0.9)\nprint(input())", *[str(i) for i in range(20)],
                        time_limit_s=1)  # ~18 s if run to the end

# ---- finding 6: the job's output is bounded where it is captured ----------------------------------------------
NUL_TESTS = 48  # 48 x 1 MiB of NUL bytes: 288 MiB as JSON, past the 256 MiB frame limit
NUL_OUTPUT = python_job("import sys\nsys.stdout.buffer.write(bytes(1 << 20))", *[""] * NUL_TESTS)

# ---- finding 8: CPU time of the whole process tree -------------------------------------------------------------
BUSY_CHILD = """
import os, time
child = os.fork()
if child == 0:
    while True:
        pass
def cpu_s(pid):  # utime + stime of the child, from /proc (clock ticks)
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
while cpu_s(child) < 1.3:  # the child, never waited for, burns 1.3 s of CPU while this process sleeps
    time.sleep(0.05)
print("done")
"""
BUSY_CHILD_JOB = python_job(BUSY_CHILD, "", time_limit_s=1, wall_limit_s=20)


# ---- no-Docker fallback: no user namespaces, mounts, ptrace, keyrings for the program ----------------------
NAMESPACES = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def attempt(call):
    pid = os.fork()
    if pid == 0:
        os._exit(0 if call() == 0 else min(ctypes.get_errno(), 255))
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
print({
    "user namespace": attempt(lambda: libc.unshare(0x10000000)),
    "user + mount namespace": attempt(lambda: libc.unshare(0x10000000 | 0x00020000)),
    "clone into a user namespace": attempt(lambda: libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)),
    "mount": attempt(lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
    "ptrace": attempt(lambda: libc.ptrace(16, os.getppid(), 0, 0)),
    "keyctl": attempt(lambda: libc.syscall(250, 0, -3, 0, 0, 0)),
})
"""
EPERM = 1
