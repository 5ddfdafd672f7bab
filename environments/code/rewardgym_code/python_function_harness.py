"""The program `python_function` runs in the sandbox: this file's text, after the task's parts as constants
(`SOLUTION`, `PROMPT`, `TEST`, `ENTRY_POINT`, `CALL_CHECK`, `MARKER`; see `python_function.harness_program`).

The solution never runs in the process that runs the tests. That process (the judge) compiles the solution
(never runs it), makes itself non-dumpable and forks the solution's process, which runs the solution with its
stdout on /dev/null and then serves calls. In the judge, the entry point is a proxy: each call sends its
arguments through a pipe and gets back the solution's return value as `marshal` data, which can only hold plain
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

import _ast
import _ctypes
import builtins
import itertools
import marshal
import posix
import sys

SOLUTION = PROMPT = TEST = ENTRY_POINT = MARKER = ""  # replaced by the task's parts
CALL_CHECK = False
MAX_ITEMS = 100_000  # of an iterator returned by the solution
# Only modules that cost next to nothing to import (the judge runs once per item: python3 -I -S has not even
# loaded os); traceback and pickle are imported where they are needed, on the rare paths.


def _send(fd, data):
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        view = view[posix.write(fd, view):]


def _recv(fd):
    header = _recv_exact(fd, 4)
    return None if header is None else _recv_exact(fd, int.from_bytes(header, "big"))


def _recv_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = posix.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _format_exc():
    import traceback
    return traceback.format_exc()


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


def _solution_process(requests, replies, code):
    devnull = posix.open("/dev/null", posix.O_WRONLY)
    posix.dup2(devnull, 1)  # the solution's prints go nowhere: only the judge writes the captured stdout
    posix.close(devnull)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(code, namespace)
        _send(replies, marshal.dumps(("ready",)))
    except SystemExit as exc:
        _send(replies, marshal.dumps(("exited", str(exc.code))))
        return
    except BaseException:
        _send(replies, marshal.dumps(("error", _format_exc())))
        return
    while (request := _recv(requests)) is not None:
        name, args, kwargs = _loads(request)
        try:
            result = namespace[name](*args, **kwargs)
            reply = ("ok", _plain(result), [_plain(a) if type(a) in (list, dict, set) else None for a in args])
        except BaseException as exc:  # noqa: BLE001  (SystemExit too: the judge's test decides)
            reply = ("raise", type(exc).__name__, str(exc)[:2000], _format_exc()[-4000:])
        try:
            data = marshal.dumps(reply)
        except ValueError:
            data = marshal.dumps(("raise", "TypeError", "the solution returned a value that cannot be sent", ""))
        _send(replies, data)


def _loads(request):
    """A call from the judge: marshal data, or pickle (prefix b"P") for arguments marshal cannot hold. The
    judge is trusted; the solution's replies are never unpickled."""
    if request[:1] == b"P":
        import pickle
        return pickle.loads(request[1:])
    return marshal.loads(request[1:])


# ---- the judge --------------------------------------------------------------------------------------------
class _Solution:
    def __init__(self, requests, replies, pid):
        self.requests, self.replies, self.pid = requests, replies, pid

    def call(self, name, args, kwargs):
        try:
            request = b"M" + marshal.dumps((name, args, kwargs))
        except ValueError:
            import pickle
            request = b"P" + pickle.dumps((name, args, kwargs))
        try:
            _send(self.requests, request)
            reply = _recv(self.replies)
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


class _Long(_ctypes._SimpleCData):
    _type_ = "l"


class _LibC:
    _handle = _ctypes.dlopen(None, 0)


class _Function(_ctypes.CFuncPtr):
    _flags_ = _ctypes.FUNCFLAG_CDECL
    _restype_ = _Long


def _not_dumpable():
    """PR_SET_DUMPABLE 0: /proc/<judge>/fd and /proc/<judge>/mem are closed to the solution (same uid)."""
    if _Function(("prctl", _LibC))(_Long(4), _Long(0), _Long(0), _Long(0), _Long(0)) != 0:
        raise OSError("prctl(PR_SET_DUMPABLE, 0) failed")


def _start_solution(code):
    _not_dumpable()
    sys.stdout.flush()
    requests_r, requests_w = posix.pipe()
    replies_r, replies_w = posix.pipe()
    pid = posix.fork()
    if pid == 0:
        posix.close(requests_w)
        posix.close(replies_r)
        try:
            _solution_process(requests_r, replies_w, code)
        finally:
            posix._exit(0)
    posix.close(requests_r)
    posix.close(replies_w)
    reply = _recv(replies_r)
    kind, *rest = marshal.loads(reply) if reply is not None else ("exited", "?")
    if kind == "error":
        sys.stderr.write(rest[0])
        sys.exit(1)
    if kind == "exited":
        raise AssertionError(f"the solution exited (status {rest[0]}) before the tests ran")
    return _Solution(requests_w, replies_r, pid)


def _imports_of(source, namespace):
    """The solution's top-level imports, done again here (stdlib only: -I keeps the work dir off sys.path): old
    tests may use a module only the solution imported. Never a name that shadows a builtin or the entry point."""
    for node in compile(source, "solution.py", "exec", _ast.PyCF_ONLY_AST, dont_inherit=True).body:
        if isinstance(node, (_ast.Import, _ast.ImportFrom)) and not getattr(node, "level", 0):
            if any(alias.name == "*" or (alias.asname or alias.name).split(".")[0] in vars(builtins)
                   or (alias.asname or alias.name).split(".")[0] == ENTRY_POINT for alias in node.names):
                continue
            try:
                exec(compile(_ast.Module([node], []), "imports", "exec"), namespace)
            except Exception:  # noqa: BLE001  (not importable here: the tests do without it)
                pass


def main():
    try:
        code = compile(SOLUTION, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # as the interpreter reports a file that does not compile
        import traceback
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
        posix.kill(solution.pid, 9)
        posix.waitpid(solution.pid, 0)  # its CPU time is counted in ours
    except OSError:
        pass
    print(f"\n{MARKER}", flush=True)


if __name__ == "__main__":
    main()
