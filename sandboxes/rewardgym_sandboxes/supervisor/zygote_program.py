"""The Python zygote: the program run, as the sandbox uid, by ``python3 -I -S -c <this file's text> CTRL_FD``.

Never imported by the supervisor (it passes this file's text on the command line, since the sandbox uid cannot
read the supervisor's files). One zygote serves one job (one solution): the first message on the control socket
is ``S <path of the source>``, which it compiles once; then for each request (a SOCK_SEQPACKET message carrying the test's stdin, stdout, stderr and a sync
socket as SCM_RIGHTS, and its limits as text) it forks a child with ``clone(CLONE_PARENT)``, so that the child is
the *supervisor's* child: the supervisor waits for it with ``wait4`` and measures its CPU time and memory itself,
exactly as for an exec'd ``python3 sol.py``. The child moves to a new session, takes the test's fds as 0, 1, 2,
closes every other fd, sets the test's rlimits, becomes dumpable again, reports ``R <pid>`` on the sync socket and
waits for ``G`` (the supervisor first validates the pid and moves it into the slot's cgroup), then runs the
program as ``python3 -I -S sol.py`` would. The zygote itself is non-dumpable (no ptrace, no /proc/<pid>/mem, no
/proc/<pid>/fd for the programs of the same uid) and runs nothing of the program's.

Run as ``... -c <this file's text> launcher CTRL_FD`` it is instead the zygote launcher (root, once per supervisor):
it forks each job's zygote, which drops to the sandbox uid (``_become_zygote``) and goes on as above.

Standard library only, and as little of it as possible: sys.modules of the child is reset to what a fresh
``python3 -I -S`` holds before the program runs.
"""

import sys

_STARTUP_MODULES = frozenset(sys.modules)

import _ctypes  # noqa: E402  (raw clone and prctl; the ctypes package costs ~4 ms more to import)
import _socket  # noqa: E402
import builtins  # noqa: E402
import posix  # noqa: E402
import resource  # noqa: E402

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
CLONE_NEWIPC = 0x08000000
CLONE_PARENT = 0x00008000
SIGCHLD = 17
SYS_CLONE = {"x86_64": 56, "aarch64": 220}
DEFAULT_RECURSION_LIMIT = 1000
# Python frames above the program's own: this file's module frame and the exec() call into the program. A program run by
# ``python3 sol.py`` starts at depth 1, here at depth 2: the default limit is raised by this much so the
# program reaches the same depth before RecursionError.
WRAPPER_DEPTH = 2
RLIMITS = (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_STACK, resource.RLIMIT_FSIZE,
           resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC)


class _Long(_ctypes._SimpleCData):
    _type_ = "l"


class _LibC:
    _handle = _ctypes.dlopen(None, 0)


class _HoldingGil(_ctypes.CFuncPtr):
    """A libc function called without releasing the GIL (so the clone child resumes holding it)."""

    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO | _ctypes.FUNCFLAG_PYTHONAPI
    _restype_ = _Long


_syscall = _HoldingGil(("syscall", _LibC))
_prctl = _HoldingGil(("prctl", _LibC))
_unshare = _HoldingGil(("unshare", _LibC))


class _Byte(_ctypes._SimpleCData):
    _type_ = "B"


def _install_seccomp(program: bytes) -> None:
    """The supervisor's filter (seccomp.py builds it; it reaches the launcher as hex on its command line)."""
    code = (_Byte * len(program)).from_buffer_copy(program)
    header = len(program) // 8
    fprog = (_Byte * 16).from_buffer_copy(header.to_bytes(2, "little") + bytes(6)
                                         + _ctypes.addressof(code).to_bytes(8, "little"))
    if _prctl(_Long(PR_SET_SECCOMP), _Long(SECCOMP_MODE_FILTER), _Long(_ctypes.addressof(fprog)), _Long(0),
              _Long(0)) != 0:
        raise OSError(_ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _clone_parent() -> int:
    """fork(), except that the child's parent is our parent (the supervisor). -1 on failure."""
    number = SYS_CLONE[posix.uname().machine]
    return _syscall(_Long(number), _Long(CLONE_PARENT | SIGCHLD), _Long(0), _Long(0), _Long(0), _Long(0))


def _set_dumpable(value: int) -> None:
    if _prctl(_Long(PR_SET_DUMPABLE), _Long(value), _Long(0), _Long(0), _Long(0)) != 0:
        raise OSError(_ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def _fds_of(ancillary) -> list:
    fds = []
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            fds += [int.from_bytes(data[i:i + 4], sys.byteorder) for i in range(0, usable, 4)]
    return fds


def _serve(ctrl_fd: int):
    """The zygote's loop. Returns only in a child: (fds, limits, path, code, compile error)."""
    ctrl = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET, 0, ctrl_fd)
    path = code = error = None
    while True:
        try:
            message, ancillary, flags, _ = ctrl.recvmsg(256, _socket.CMSG_SPACE(8 * 4))
        except InterruptedError:
            continue
        fds = _fds_of(ancillary)
        if not message:  # the supervisor closed the socket: the job is over
            posix._exit(0)
        if message.startswith(b"S ") and path is None and not fds:
            path = message[2:].decode()
            code, error = _compile(path)
            import gc
            gc.freeze()  # the children's collections never walk (and so never copy) the zygote's objects
            continue
        if len(fds) != 4 or path is None or flags & (_socket.MSG_CTRUNC | _socket.MSG_TRUNC):
            for fd in fds:  # closing the sync socket tells the supervisor
                posix.close(fd)
            continue
        pid = _clone_parent()
        if pid == 0:
            ctrl.detach()  # its fd is closed with the others; the object must not close a reused number
            return fds, [int(x) for x in message.split()], path, code, error
        for fd in fds:  # the child has its copies; on a failed clone this closes the sync socket (EOF)
            posix.close(fd)


_SECCOMP_FILTER = None  # the launcher's options (its command line), applied by every zygote it forks
_NEW_IPCNS = False


def _launcher(ctrl_fd: int) -> int:
    """The zygote launcher's loop (root; started once per supervisor; see sandboxes/README.md). Each request
    ``Z\0uid\0cpu\0as\0stack\0fsize\0nofile\0nproc\0workdir\0KEY=VALUE...`` with the new zygote's control
    socket, its stdout/stderr (a pipe) and its stdin (an empty memfd) as SCM_RIGHTS: fork with
    ``clone(CLONE_PARENT)`` (the zygote is the supervisor's child, so are its test processes), wait until the
    child has dropped its privileges, reply ``P <pid>`` (or ``E <why>``). Returns only in a forked child, as the
    new zygote, with its control socket's fd; it never learns more of the job than the uid, dir and limits."""
    ctrl = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET, 0, ctrl_fd)
    while True:
        try:
            message, ancillary, flags, _ = ctrl.recvmsg(8192, _socket.CMSG_SPACE(8 * 4))
        except InterruptedError:
            continue
        fds = _fds_of(ancillary)
        if not message:  # the supervisor is gone (or gave us up)
            posix._exit(0)
        fields = message.split(b"\0")
        if (fields[0] != b"Z" or len(fields) < 9 or len(fds) != 3
                or flags & (_socket.MSG_CTRUNC | _socket.MSG_TRUNC)):
            for fd in fds:
                posix.close(fd)
            ctrl.send(b"E bad request")
            continue
        ready_r, ready_w = posix.pipe()
        pid = _clone_parent()
        if pid == 0:
            ctrl.detach()  # closed with every other fd in _become_zygote
            try:
                return _become_zygote(fields, fds, ready_r, ready_w)
            except BaseException as exc:  # noqa: BLE001  (whatever failed, the child dies before running anything)
                try:
                    posix.write(ready_w, f"E {type(exc).__name__}: {exc}".encode()[:1000])
                finally:
                    posix._exit(127)
        posix.close(ready_w)
        for fd in fds:  # the child has its copies
            posix.close(fd)
        report = b"" if pid < 0 else posix.read(ready_r, 1024)  # b"K", an error, or b"" if it died first
        posix.close(ready_r)
        if pid < 0:
            ctrl.send(b"E clone failed")
        elif report == b"K":
            ctrl.send(b"P %d" % pid)
        else:
            ctrl.send(b"E child setup failed: " + (report or b"died"))


def _become_zygote(fields: list, fds: list, ready_r: int, ready_w: int) -> int:
    """In the launcher's child: what ``isolation.child_setup`` and the exec do for an exec'd zygote, in the
    same order (new session, stdio, rlimits, groups, gid, uid, no new privileges, the job dir, umask, the
    environment, every other fd closed), then non-dumpable. Returns the control socket's fd."""
    ctrl_fd, diag_fd, stdin_fd = fds
    uid, cpu, address_space, stack, fsize, nofile, nproc = (int(x) for x in fields[1:8])
    workdir, env = fields[8], [entry.partition(b"=") for entry in fields[9:] if entry]
    posix.close(ready_r)
    posix.setsid()
    if _NEW_IPCNS and _unshare(_Long(CLONE_NEWIPC)) != 0:  # the job's own IPC namespace (as root, first)
        raise OSError(_ctypes.get_errno(), "unshare(CLONE_NEWIPC) failed")
    posix.dup2(stdin_fd, 0)
    posix.dup2(diag_fd, 1)
    posix.dup2(diag_fd, 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    if nproc >= 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    if address_space >= 0:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    if uid >= 0:
        posix.setgroups([])
        posix.setgid(uid)
        posix.setuid(uid)
        if posix.getuid() != uid or posix.geteuid() != uid or posix.getresuid() != (uid, uid, uid):
            raise OSError("setuid did not take")
    if _prctl(_Long(PR_SET_NO_NEW_PRIVS), _Long(1), _Long(0), _Long(0), _Long(0)) != 0:
        raise OSError(_ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if _SECCOMP_FILTER is not None:
        _install_seccomp(_SECCOMP_FILTER)
    posix.chdir(workdir)
    posix.umask(0o077)
    for key in list(posix.environ):  # the environment an exec'd zygote gets, in the same order
        posix.unsetenv(key)
    posix.environ.clear()
    for key, _, value in env:
        posix.putenv(key, value)
        posix.environ[key] = value
    _set_dumpable(0)
    keep = sorted({ctrl_fd, ready_w})
    low = 3
    for fd in keep:
        posix.closerange(low, fd)
        low = fd + 1
    posix.closerange(low, 1 << 20)
    posix.write(ready_w, b"K")
    posix.close(ready_w)
    return ctrl_fd


def _child_setup(fds: list, limits: list) -> None:
    stdin_fd, out_fd, err_fd, sync_fd = fds
    posix.setsid()
    posix.dup2(stdin_fd, 0)
    posix.dup2(out_fd, 1)
    posix.dup2(err_fd, 2)
    posix.closerange(3, sync_fd)
    posix.closerange(sync_fd + 1, 1 << 20)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for which, value in zip(RLIMITS, limits):
        if value >= 0:
            resource.setrlimit(which, (value, value))
    _set_dumpable(1)
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT + WRAPPER_DEPTH)
    posix.write(sync_fd, b"R %d" % posix.getpid())
    if posix.read(sync_fd, 16) != b"G":
        posix._exit(127)
    posix.close(sync_fd)


def _compile(path: str):
    """(code, None), or (None, the exception ``python3 sol.py`` would die of before running anything)."""
    try:
        with open(path, "rb") as f:
            source = f.read()
        return compile(source, path, "exec", dont_inherit=True), None
    except BaseException as exc:  # SyntaxError, ValueError (null bytes), MemoryError, ...
        return None, exc


def _main_module(path: str) -> dict:
    """A fresh ``__main__`` holding what ``python3 sol.py`` gives a script, in the same order."""
    main = type(sys)("__main__")
    loader = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path)
    main.__dict__.update(__loader__=loader, __spec__=None, __annotations__={}, __builtins__=builtins,
                         __file__=path, __cached__=None)
    sys.modules["__main__"] = main
    return main.__dict__


def _reset_interpreter(path: str) -> None:
    for name in list(sys.modules):
        if name not in _STARTUP_MODULES:
            del sys.modules[name]
    sys.argv = [path.rpartition("/")[2]]
    sys.orig_argv = sys.orig_argv[:1] + ["-I", "-S", sys.argv[0]]


def _report_uncaught(exc: BaseException, code) -> None:
    """Print ``exc`` as the interpreter does for an uncaught exception, without this file's frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    exc.__traceback__ = tb
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    try:
        sys.excepthook(type(exc), exc, tb)
    except BaseException as hook_error:
        _write_stderr("Error in sys.excepthook:\n")
        sys.__excepthook__(type(hook_error), hook_error, hook_error.__traceback__)
        _write_stderr("\nOriginal exception was:\n")
        sys.__excepthook__(type(exc), exc, tb)


def _write_stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
    except BaseException:
        posix.write(2, text.encode("utf-8", "backslashreplace"))


def _exit_status(exc: SystemExit) -> int:
    """What ``python3 sol.py`` exits with for an uncaught SystemExit (Python/pythonrun.c)."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if -(1 << 63) <= code < (1 << 63) else 255
    try:
        _write_stderr(f"{code}\n")
    except BaseException:
        pass
    return 1


def _flush_std_files() -> bool:
    ok = True
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except BaseException as exc:
            ok = False
            if stream is sys.stdout:
                _write_stderr(f"Exception ignored in: {stream!r}\n{type(exc).__name__}: {exc}\n")
    return ok


def _finish(status: int, main: dict, interrupted: bool) -> None:
    """The interpreter's exit (Py_FinalizeEx), as far as a program can observe it: wait for non-daemon
    threads, atexit callbacks, flush stdout and stderr (120 if that fails), collect garbage, set __main__'s
    globals to None (underscore names first: what module teardown does; __del__ methods run), collect and
    flush again, _exit. The zygote's own objects are not torn down (they were frozen before the fork): that
    would copy every page of the interpreter, ~4 ms a test."""
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException as exc:
            _report_uncaught(exc, None)
    import atexit
    atexit._run_exitfuncs()
    if not _flush_std_files():
        status = 120
    import gc
    gc.collect()
    for first in (True, False):
        for name in list(main):
            if name != "__builtins__" and (name.startswith("_") and not name.startswith("__")) == first:
                try:
                    main[name] = None
                except BaseException:
                    pass
    gc.collect()
    for stream in (sys.__stdout__, sys.__stderr__):  # replaced original streams hold their last output
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except BaseException:
            pass
    _flush_std_files()
    if interrupted:  # an uncaught KeyboardInterrupt: the interpreter dies of SIGINT
        import _signal
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
        posix.kill(posix.getpid(), _signal.SIGINT)
    posix._exit(status)


if __name__ == "__main__":
    _set_dumpable(0)
    try:
        if sys.argv[1] == "launcher":  # root, for the supervisor's lifetime; returns in a new zygote only
            _SECCOMP_FILTER = None if sys.argv[3] == "-" else bytes.fromhex(sys.argv[3])
            _NEW_IPCNS = sys.argv[4] == "ipcns"
            _CTRL_FD = _launcher(int(sys.argv[2]))
        else:
            _CTRL_FD = int(sys.argv[1])
        _FDS, _LIMITS, _PATH, _CODE, _ERROR = _serve(_CTRL_FD)
        _child_setup(_FDS, _LIMITS)
    except BaseException:  # in the zygote: it exits; in a child before "G": the supervisor falls back
        posix._exit(127)
    # ---- the child only, from here on: run the program --------------------------------------------------
    _GLOBALS = _main_module(_PATH)
    _reset_interpreter(_PATH)
    _INTERRUPTED = False
    try:
        if _ERROR is not None:
            raise _ERROR
        exec(_CODE, _GLOBALS)
        _STATUS = 0
    except SystemExit as _exc:
        _STATUS = _exit_status(_exc)
    except BaseException as _exc:
        _report_uncaught(_exc, _CODE)
        _STATUS, _INTERRUPTED = 1, isinstance(_exc, KeyboardInterrupt)
    _finish(_STATUS, _GLOBALS, _INTERRUPTED)
