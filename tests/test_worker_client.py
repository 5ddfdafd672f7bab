"""The gateway's HTTP/1.1 client for workers, against a scripted server on a Unix socket."""

from __future__ import annotations

import asyncio
import select
import socket
import threading

import pytest

from rewardgym.server.worker_client import WorkerClient, WorkerUnavailable


async def scripted_server(path: str, answers: list[bytes], close_after: bool = False) -> asyncio.AbstractServer:
    """Answers the n-th request (on any connection) with answers[n]; b"" hangs up without answering."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length")), 0)
            await reader.readexactly(length)
            answer = answers.pop(0)
            if not answer:
                writer.close()
                return
            writer.write(answer)
            await writer.drain()
            if close_after:
                writer.close()
                return

    return await asyncio.start_unix_server(serve, path)


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body


async def test_keep_alive_reuses_one_connection_and_reads_both_body_framings(tmp_path):
    path = str(tmp_path / "w.sock")
    chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n"
    server = await scripted_server(path, [ok(b'{"n": 1}'), chunked, ok(b"x" * 100_000)])
    client = WorkerClient(uds=path)
    first = await client.post("/score/e", b"{}", timeout=5)
    assert (first.status_code, first.json()) == (200, {"n": 1})
    assert (await client.get("/healthz", timeout=5)).json() == {"a": 1}
    assert len((await client.get("/big", timeout=5)).content) == 100_000
    assert len(client._idle) == 1
    await client.aclose()
    server.close()


async def test_a_connection_the_worker_closed_while_idle_is_replaced_transparently(tmp_path):
    path = str(tmp_path / "w.sock")
    server = await scripted_server(path, [ok(b"1"), ok(b"2")], close_after=True)
    client = WorkerClient(uds=path)
    assert (await client.get("/a", timeout=5)).content == b"1"
    await asyncio.sleep(0.05)
    assert (await client.get("/b", timeout=5)).content == b"2"
    await client.aclose()
    server.close()


async def test_failures_are_worker_unavailable(tmp_path):
    with pytest.raises(WorkerUnavailable, match="cannot connect"):
        await WorkerClient(uds=str(tmp_path / "none.sock")).get("/healthz", timeout=1)
    path = str(tmp_path / "w.sock")
    server = await scripted_server(path, [b"", b"garbage\r\n\r\n"])
    client = WorkerClient(uds=path)
    with pytest.raises(WorkerUnavailable, match="closed the connection"):
        await client.post("/score/e", b"{}", timeout=5)
    with pytest.raises(WorkerUnavailable, match="malformed status line"):
        await client.post("/score/e", b"{}", timeout=5)
    server.close()
    path = str(tmp_path / "silent.sock")
    silent = await asyncio.start_unix_server(lambda r, w: asyncio.sleep(10), path)
    with pytest.raises(WorkerUnavailable, match="within 0.2 s"):
        await WorkerClient(uds=path).get("/healthz", timeout=0.2)
    silent.close()


def test_urls_of_remote_workers_are_checked():
    assert WorkerClient.for_url("http://node7:8100").port == 8100
    with pytest.raises(ValueError, match="Expected a worker URL"):
        WorkerClient.for_url("node7:8100")


async def test_a_reused_connection_reset_before_any_answer_is_retried_on_a_new_one(tmp_path):
    """Issue 7, finding 5: the request after a worker hung up must not fail because it drew that connection."""
    path = str(tmp_path / "w.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        first, _ = listener.accept()
        first.recv(65536)
        first.sendall(ok(b"1"))
        select.select([first], [], [], 5)  # the next request arrives...
        first.close()  # ...and is left unread: the kernel resets the connection
        second, _ = listener.accept()
        received = b""
        while not received.endswith(b"{}" * 100):
            received += second.recv(65536)
        second.sendall(ok(b"2"))
        second.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = WorkerClient(uds=path)
    assert (await client.get("/a", timeout=5)).content == b"1"
    assert (await client.post("/score/e", b"{}" * 100, timeout=5)).content == b"2"
    await client.aclose()
    thread.join(5)
    listener.close()
