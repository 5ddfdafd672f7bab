"""Correct programs in every language, the protocol, and the limits' edges."""

from __future__ import annotations

import socket
import struct

from sandbox_support import python_job

from rewardgym_sandboxes.client import run_job
from rewardgym_sandboxes.supervisor.protocol import recv_frame

CPP_DOUBLE = "#include <iostream>\nint main(){long long a; std::cin >> a; std::cout << 2*a << '\\n';}\n"
JS_DOUBLE = "const s = require('fs').readFileSync(0, 'utf8'); console.log(2 * Number(s.trim()));\n"


def _outputs(result: dict) -> list[str]:
    return [t["stdout"] for t in result["tests"]]


def test_python_ok_over_several_tests(supervisor):
    result = supervisor.run(python_job("print(2 * int(input()))", "1\n", "21\n", "-4\n"))
    assert result["verdict"] == "OK"
    assert _outputs(result) == ["2\n", "42\n", "-8\n"]
    test = result["tests"][0]
    assert test["exit_code"] == 0 and test["signal"] is None
    assert test["cpu_ms"] >= 0 and test["wall_ms"] > 0 and test["memory_kb"] > 0


def test_cpp_compiles_once_and_runs(supervisor):
    job = {"language": "cpp", "source": CPP_DOUBLE, "tests": [{"stdin": "21"}, {"stdin": "5"}]}
    result = supervisor.run(job)
    assert result["verdict"] == "OK", result
    assert result["compile"]["verdict"] == "OK"
    assert _outputs(result) == ["42\n", "10\n"]


def test_javascript_ok(supervisor):
    result = supervisor.run({"language": "javascript", "source": JS_DOUBLE, "tests": [{"stdin": "21\n"}]})
    assert result["verdict"] == "OK", result
    assert _outputs(result) == ["42\n"]


def test_sqlite_runs_query_after_schema(supervisor):
    schema = "create table t(a int, b text); insert into t values (2, 'y'), (1, 'x');"
    result = supervisor.run({"language": "sqlite", "source": "select a, b from t order by a;",
                             "tests": [{"stdin": schema}]})
    assert result["verdict"] == "OK", result
    assert _outputs(result) == ["1|x\n2|y\n"]


def test_cpp_compile_error_is_ce_with_message(supervisor):
    result = supervisor.run({"language": "cpp", "source": "int main() { return x; }", "tests": [{}]})
    assert result["verdict"] == "CE"
    assert "x" in result["compile"]["message"] and result["tests"] == []


def test_runtime_error_and_stop_on_first_failure(supervisor):
    job = python_job("import sys\nn = int(input())\nprint(n)\nsys.exit(3 if n == 2 else 0)", "1", "2", "3")
    result = supervisor.run(job)
    assert [t["verdict"] for t in result["tests"]] == ["OK", "RE", "OK"]
    assert result["tests"][1]["exit_code"] == 3 and result["verdict"] == "RE"
    result = supervisor.run(job | {"stop_on_first_failure": True})
    assert [t["verdict"] for t in result["tests"]] == ["OK", "RE"]


def test_syntax_error_is_runtime_error_with_stderr(supervisor):
    result = supervisor.run(python_job("print(("))
    assert result["verdict"] == "RE"
    assert "SyntaxError" in result["tests"][0]["stderr"]


def test_large_stdin_round_trips(supervisor):
    data = "x" * (2 * 1024 * 1024) + "\n"
    result = supervisor.run(python_job("import sys\nprint(len(sys.stdin.read()))", data))
    assert _outputs(result) == [f"{len(data)}\n"]


def test_output_cap_is_exact(supervisor):
    at_cap = supervisor.run(python_job("print('x' * 9)", output_limit_bytes=10))
    over = supervisor.run(python_job("print('x' * 10)", output_limit_bytes=10))
    assert at_cap["verdict"] == "OK"
    assert over["verdict"] == "OLE" and over["tests"][0]["stdout"] == "x" * 10


def test_invalid_job_is_internal_error(supervisor):
    result = supervisor.run({"language": "cobol", "source": "", "tests": []})
    assert result["verdict"] == "IE" and "language" in result["error"]
    result = supervisor.run({"language": "python", "source": "", "tests": [{"time_limit_s": -1}]})
    assert result["verdict"] == "IE" and "time_limit_s" in result["error"]


def test_malformed_frame_gets_an_answer_and_server_survives(supervisor):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(supervisor.socket)
        body = b"not json"
        sock.sendall(struct.pack(">I", len(body)) + body)
        assert recv_frame(sock)["verdict"] == "IE"
    assert run_job(supervisor.socket, python_job("print(1)"), 30)["verdict"] == "OK"


def test_isolation_is_reported(supervisor):
    result = supervisor.run(python_job("print(1)"))
    assert set(result["isolation"]) >= {"uid", "netns", "cgroup"}
    assert result["isolation"]["uid"] == supervisor.uid
