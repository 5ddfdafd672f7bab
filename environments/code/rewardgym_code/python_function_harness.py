"""The program `python_function` runs in the sandbox: this file's text, after the task's parts as constants
(`SOLUTION`, `PROMPT`, `TEST`, `ENTRY_POINT`, `CALL_CHECK`, `MARKER`; see `python_function.harness_program`).

The solution never runs in the process that runs the tests. That process (the judge) compiles the solution
(never runs it), makes itself non-dumpable and forks the solution's process, which runs the solution with its
stdout on /dev/null and then serves calls. In the judge, the entry point is a proxy: each call sends its
arguments over a socket and gets back the solution's return value as `marshal` data, which can only hold plain
values (None, bool, int, float, complex, str, bytes, and tuples, lists, dicts, sets of them). So:

- an object whose `__eq__` always answers True (or any object of the solution's own classes) never reaches a
  comparison: the test compares real values of the expected types (a `Counter` or a `namedtuple` arrives as the
  dict or tuple it is; an iterator as an iterator over its items);
- builtins, modules and globals the test uses are the judge's, untouched by the solution;
- only the judge writes the stdout the sandbox captures: the solution cannot print the marker (its stdout is
  /dev/null, and the judge's pipe is out of its reach: the judge is non-dumpable, so /proc/<judge>/fd is closed
  to it), and an early exit of the solution fails the test that was running.

The task's prompt (trusted: it comes with the task) runs in the judge too, so helpers the tests use (HumanEval's
`encode_cyclic`, `poly`, ...) are the prompt's, not the solution's. Standard library only.
"""

import ast
import builtins
import ctypes
import itertools
import marshal
import os
import pickle
import socket
import struct
import sys
import traceback

SOLUTION = PROMPT = TEST = ENTRY_POINT = MARKER = ""  # replaced by the task's parts
CALL_CHECK = False
MAX_ITEMS = 100_000  # of an iterator returned by the solution


def _send(sock, data):
    sock.sendall(struct.pack(">I", len(data)) + data)


def _recv(sock):
    header = _recv_exact(sock, 4)
    return None if header is None else _recv_exact(sock, struct.unpack(">I", header)[0])


def _recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# ---- the solution's process --------------------------------------------------------------------------------
def _plain(value, depth=0):
    """The plain value `value` stands for (subclasses of plain types as their base type); TypeError else."""
    if depth > 200:
        raise TypeError("a value nested too deeply")
    if value is None or type(value) in (bool, int, float, complex, str, bytes):
        return value
    for base in (bool, int, float, complex, str, bytes):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, dict):
        return {_plain(k, depth + 1): _plain(v, depth + 1) for k, v in dict.items(value)}
    for base in (list, tuple, set, frozenset):
        if isinstance(value, base):
            return base(_plain(v, depth + 1) for v in base.__iter__(value))
    if isinstance(value, bytearray):
        return bytes(value)
    if hasattr(type(value), "__next__"):
        return {"__iterator__": [_plain(v, depth + 1) for v in itertools.islice(value, MAX_ITEMS)]}
    raise TypeError(f"the solution returned a {type(value).__name__}, not a plain value")


def _solution_process(sock, code):
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the solution's prints go nowhere: only the judge writes the captured stdout
    os.close(devnull)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(code, namespace)
        _send(sock, marshal.dumps(("ready",)))
    except SystemExit as exc:
        _send(sock, marshal.dumps(("exited", str(exc.code))))
        return
    except BaseException:
        _send(sock, marshal.dumps(("error", traceback.format_exc())))
        return
    while (request := _recv(sock)) is not None:
        name, args, kwargs = _loads(request)
        try:
            result = namespace[name](*args, **kwargs)
            reply = ("ok", _plain(result), [_plain(a) if type(a) in (list, dict, set) else None for a in args])
        except BaseException as exc:  # noqa: BLE001  (SystemExit too: the judge's test decides)
            reply = ("raise", type(exc).__name__, str(exc)[:2000], traceback.format_exc()[-4000:])
        try:
            data = marshal.dumps(reply)
        except ValueError:
            data = marshal.dumps(("raise", "TypeError", "the solution returned a value that cannot be sent", ""))
        _send(sock, data)


def _loads(request):
    """A call from the judge: marshal data, or pickle (prefix b"P") for arguments marshal cannot hold. The
    judge is trusted; the solution's replies are never unpickled."""
    return pickle.loads(request[1:]) if request[:1] == b"P" else marshal.loads(request[1:])


# ---- the judge --------------------------------------------------------------------------------------------
class _Solution:
    def __init__(self, sock, pid):
        self.sock, self.pid = sock, pid

    def call(self, name, args, kwargs):
        try:
            request = b"M" + marshal.dumps((name, args, kwargs))
        except ValueError:
            request = b"P" + pickle.dumps((name, args, kwargs))
        try:
            _send(self.sock, request)
            reply = _recv(self.sock)
        except OSError:
            reply = None
        if reply is None:
            raise AssertionError(f"the solution's process exited during a call of {name}()")
        kind, *rest = marshal.loads(reply)
        if kind == "ok":
            result, mutated = rest
            for arg, new in zip(args, mutated):  # in-place changes of list/dict/set arguments
                if new is not None and type(new) is type(arg):
                    if isinstance(arg, list):
                        arg[:] = new
                    else:
                        arg.clear()
                        arg.update(new)
            return _restore(result)
        exc_name, message, trace = rest
        sys.stderr.write(f"in the solution's process:\n{trace}")
        exc_type = getattr(builtins, exc_name, None)
        if isinstance(exc_type, type) and issubclass(exc_type, Exception) and exc_type is not SystemExit:
            raise exc_type(message)
        raise RuntimeError(f"{exc_name}: {message}")

    def proxy(self, name):
        def candidate(*args, **kwargs):
            return self.call(name, args, kwargs)
        candidate.__name__ = candidate.__qualname__ = name
        return candidate


def _restore(value):
    if type(value) is dict and len(value) == 1 and "__iterator__" in value:
        return iter(value["__iterator__"])
    return value


def _start_solution(code):
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: our fds and memory are closed to the solution
    sys.stdout.flush()
    judge_end, solution_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        judge_end.close()
        try:
            _solution_process(solution_end, code)
        finally:
            os._exit(0)
    solution_end.close()
    reply = _recv(judge_end)
    kind, *rest = marshal.loads(reply) if reply is not None else ("exited", "?")
    if kind == "error":
        sys.stderr.write(rest[0])
        sys.exit(1)
    if kind == "exited":
        raise AssertionError(f"the solution exited (status {rest[0]}) before the tests ran")
    return _Solution(judge_end, pid)


def _imports_of(source, namespace):
    """The solution's top-level imports, done again here (stdlib only: -I keeps the work dir off sys.path): old
    tests may use a module only the solution imported. Never a name that shadows a builtin or the entry point."""
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
            if any(alias.name == "*" or (alias.asname or alias.name).split(".")[0] in vars(builtins)
                   or (alias.asname or alias.name).split(".")[0] == ENTRY_POINT for alias in node.names):
                continue
            try:
                exec(compile(ast.Module([node], []), "imports", "exec"), namespace)
            except Exception:  # noqa: BLE001  (not importable here: the tests do without it)
                pass


def main():
    try:
        code = compile(SOLUTION, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # as the interpreter reports a file that does not compile
        sys.stderr.write("".join(traceback.format_exception_only(type(exc), exc)))
        sys.exit(1)
    solution = _start_solution(code)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    if PROMPT:
        try:
            exec(compile(PROMPT, "prompt.py", "exec", dont_inherit=True), namespace)
        except Exception:  # noqa: BLE001  (a prompt that is not valid alone: the tests do without it)
            namespace = {"__name__": "__main__", "__builtins__": builtins}
    _imports_of(SOLUTION, namespace)
    namespace[ENTRY_POINT] = solution.proxy(ENTRY_POINT)
    exec(compile(TEST, "test.py", "exec", dont_inherit=True), namespace)
    if CALL_CHECK:
        namespace["check"](namespace[ENTRY_POINT])
    try:
        os.kill(solution.pid, 9)
        os.waitpid(solution.pid, 0)  # its CPU time is counted in ours
    except OSError:
        pass
    print(f"\n{MARKER}", flush=True)


if __name__ == "__main__":
    main()
