"""Multi-turn sessions through a real gateway: games played step by step, retried steps, expiry, the cap, a step
past its deadline, a worker that dies, and 200 sessions at once with no cross-talk.

Two gateways: one with the games family and the toy multi-turn family (default TTL and cap), and a small one with
only the toy family, a 3 s TTL, a cap of 3 sessions and a gateway queue bound of 2 items, for expiry, the caps and
killing the worker.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import time
from typing import Iterator

import httpx
import psutil
import pytest

from rewardgym.http import HTTPProblem
from rewardgym.worker.sessions import Session, SessionSettings, SessionStore
from rewardgym_games import FAMILY as GAMES
from tests.conftest import RunningServer, start_server, stop_server
from tests.test_replicas import kill, start_tcp_worker

TOY_TURNS = "tests.support.toy_turns:FAMILY"
GAME_ENVS = GAMES.instantiate()
TTL_S = 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("sessions"), "--families", f"games,{TOY_TURNS}", "--processes", "2")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with pytest.MonkeyPatch.context() as env:  # read by the worker, which inherits the gateway's environment
        env.setenv("REWARDGYM_SESSION_TTL_S", str(TTL_S))
        env.setenv("REWARDGYM_MAX_SESSIONS", "3")
        running = start_server(tmp_path_factory.mktemp("small"), "--families", TOY_TURNS, "--processes", "1",
                               "--max-queued-items", "2")
    yield running
    stop_server(running)


def start(http: httpx.Client, env: str, seed: int, **options: str) -> dict:
    answer = http.post(f"/v1/envs/{env}/sessions", json={"seed": seed, "options": options})
    assert answer.status_code == 200, answer.text
    return answer.json()


def step(http: httpx.Client, session_id: str, action: str, request_id: str | None = None) -> httpx.Response:
    return http.post(f"/v1/sessions/{session_id}/step", json={"action": action, "request_id": request_id})


def play(http: httpx.Client, session_id: str, actions: list[str]) -> list[dict]:
    answers = []
    for index, action in enumerate(actions):
        answer = step(http, session_id, action, f"step-{index}")
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
        if answers[-1]["terminated"] or answers[-1]["truncated"]:
            break
    return answers


# ---- the game, through sessions and through /score ------------------------------------------------------------


@pytest.mark.parametrize("name", ["wordle", "tic_tac_toe", "frozen_lake", "hangman"])
def test_playing_through_sessions_gives_the_reward_that_score_gives_the_transcript(server, name):
    env = GAME_ENVS[name]
    with server.client() as http:
        for seed, careless in [(11, False), (12, True)]:
            started = start(http, name, seed, difficulty="easy")
            assert started["observation"] == env.replay(seed, {"difficulty": "easy"}, []).observation
            expert, _ = env.play_expert(seed, env.Options(difficulty="easy"))
            actions = ["?!", expert[0], "?!", "?!", *expert[1:]] if careless else expert
            answers = play(http, started["session_id"], actions)
            state = http.get(f"/v1/sessions/{started['session_id']}").json()
            assert state["actions"] == actions[:len(answers)]
            assert state["total_reward"] == pytest.approx(sum(a["reward"] for a in answers))
            assert state["terminated"] or state["truncated"]
            task = {"seed": state["seed"], "options": state["options"]}
            scored = http.post(f"/score/{name}", json={"task": task, "completion": json.dumps(state["actions"])})
            assert scored.json()["reward"] == state["total_reward"]
            if not careless:
                assert state["total_reward"] == 1.0
            final = http.delete(f"/v1/sessions/{started['session_id']}")
            assert final.status_code == 200 and final.json()["actions"] == state["actions"]
            assert http.get(f"/v1/sessions/{started['session_id']}").status_code == 404


def test_a_retried_step_gets_its_recorded_answer_and_is_played_once(server):
    with server.client() as http:
        session_id = start(http, "toy_counter", 5)["session_id"]
        first = step(http, session_id, "up", "a")
        assert first.status_code == 200 and first.json()["info"]["count"] == 1
        assert step(http, session_id, "up", "a").json() == first.json()
        with concurrent.futures.ThreadPoolExecutor(6) as pool:  # retries racing the original: one step played
            racing = list(pool.map(lambda _: step(http, session_id, "up", "b"), range(6)))
        assert {r.status_code for r in racing} == {200} and len({r.text for r in racing}) == 1
        assert racing[0].json()["info"]["count"] == 2
        assert http.get(f"/v1/sessions/{session_id}").json()["actions"] == ["up", "up"]
        mismatch = step(http, session_id, "wait", "a")
        assert mismatch.status_code == 409 and "request_id 'a' was step 1" in mismatch.json()["detail"]
        assert step(http, session_id, "up").json()["info"]["count"] == 3  # no request_id: a new step each time
        assert http.get(f"/v1/sessions/{session_id}").json()["actions"] == ["up", "up", "up"]


def test_a_finished_episode_refuses_more_steps_with_409(server):
    with server.client() as http:
        started = start(http, "toy_counter", 5)
        target = started["info"]["target"]
        answers = play(http, started["session_id"], ["up"] * target)
        assert answers[-1]["terminated"] and answers[-1]["reward"] == 1.0
        late = step(http, started["session_id"], "up", "late")
        assert late.status_code == 409 and "episode is over" in late.json()["detail"]
        assert step(http, started["session_id"], "up", f"step-{target - 1}").json() == answers[-1]


def test_a_step_past_its_deadline_loses_that_step_only(server):
    with server.client() as http:
        session_id = start(http, "toy_counter", 7)["session_id"]
        assert step(http, session_id, "up", "1").status_code == 200
        slow = step(http, session_id, "sleep 30", "2")
        assert slow.status_code == 504, slow.text
        assert "deadline of 1 s" in slow.json()["detail"] and "session is unchanged" in slow.json()["detail"]
        failing = step(http, session_id, "raise", "3")
        assert failing.status_code == 500 and "RuntimeError: boom" in failing.json()["detail"]
        state = http.get(f"/v1/sessions/{session_id}").json()
        assert state["actions"] == ["up"] and state["info"]["count"] == 1
        after = step(http, session_id, "up", "4").json()
        assert after["info"]["count"] == 2 and after["observation"].endswith("turn 2")


def test_unknown_ids_are_404_and_bad_input_is_422(server):
    with server.client() as http:
        for unknown in ["nope", "0" * 8 + "-" + "1" * 12 + "-" + "2" * 24]:
            assert http.get(f"/v1/sessions/{unknown}").status_code == 404
            assert step(http, unknown, "up").status_code == 404
            assert http.delete(f"/v1/sessions/{unknown}").status_code == 404
        session_id = start(http, "toy_counter", 1)["session_id"]
        forged = session_id[:-4] + ("0000" if not session_id.endswith("0000") else "1111")
        assert http.get(f"/v1/sessions/{forged}").status_code == 404
        for body in [{}, {"action": 3}, {"action": "up", "extra": 1}, {"action": "x" * 10_001}, [1]]:
            answer = http.post(f"/v1/sessions/{session_id}/step", json=body)
            assert answer.status_code == 422, (body, answer.text)
        assert http.post(f"/v1/sessions/{session_id}/step", content=b"{").status_code == 422
        odd = http.post(f"/v1/sessions/{session_id}/step",  # a lone surrogate is no text: 422, never a 500
                        content=b'{"action": "up\\ud800", "request_id": "odd"}')
        assert odd.status_code == 422 and "action" in odd.json()["detail"]
        assert http.get(f"/v1/sessions/{session_id}").json()["actions"] == []
        for body in [{}, {"seed": -1}, {"seed": "x"}, {"seed": 1, "options": {"difficulty": "brutal"}}]:
            answer = http.post("/v1/envs/wordle/sessions", json=body)
            assert answer.status_code == 422, (body, answer.text)
        single = http.post("/v1/envs/toy_single/sessions", json={"seed": 1})
        assert single.status_code == 422 and "single-turn" in single.json()["detail"]
        unknown_env = http.post("/v1/envs/no_such_game/sessions", json={"seed": 1})
        assert unknown_env.status_code == 404 and "wordle" in unknown_env.json()["known_envs"]
        assert http.delete(f"/v1/sessions/{session_id}").status_code == 200
        assert step(http, session_id, "up").status_code == 404
        schema = http.get("/openapi.json").json()
        assert "/v1/sessions/{session_id}/step" in schema["paths"] and "StepRequest" in schema["components"]["schemas"]


def test_many_sessions_step_in_one_request_each_with_its_own_answer(server):
    with server.client() as http:
        words = [start(http, "wordle", seed)["session_id"] for seed in (21, 22)]
        counter = start(http, "toy_counter", 4)["session_id"]  # on the other worker: the batch is split
        batch = {"steps": [
            {"session_id": words[0], "action": "CRANE", "request_id": "1"},
            {"session_id": counter, "action": "up", "request_id": "1"},
            {"session_id": "nope", "action": "CRANE"},
            {"session_id": words[0], "action": "SLOTH", "request_id": "2"},  # same session: played in order
            {"session_id": words[1], "action": "CRANE", "request_id": "1"},
            {"session_id": counter, "action": "sleep 30", "request_id": "2"},
        ]}
        results = http.post("/v1/sessions/steps", json=batch).json()["results"]
        assert [r["status"] for r in results] == [200, 200, 404, 200, 200, 504], results
        assert results[0]["observation"] == GAME_ENVS["wordle"].replay(21, None, ["CRANE"]).observation
        assert results[3]["observation"] == GAME_ENVS["wordle"].replay(21, None, ["CRANE", "SLOTH"]).observation
        assert results[1]["info"]["count"] == 1 and "deadline" in results[5]["detail"]
        again = http.post("/v1/sessions/steps", json=batch).json()["results"]  # retried: nothing played twice
        assert again[:5] == results[:5]
        assert http.get(f"/v1/sessions/{words[0]}").json()["actions"] == ["CRANE", "SLOTH"]
        assert http.get(f"/v1/sessions/{counter}").json()["actions"] == ["up"]
        for bad in [{"steps": []}, {"steps": [{"session_id": counter}]}, {"steps": [{"action": "up"}]}, {}]:
            assert http.post("/v1/sessions/steps", json=bad).status_code == 422, bad


def test_many_sessions_start_and_end_in_one_request_each_with_its_own_answer(server):
    with server.client() as http:
        starts = [{"env": "wordle", "seed": 21},
                  {"env": "toy_counter", "seed": 4},  # on the other worker: the batch is split
                  {"env": "no_such_game", "seed": 1},
                  {"env": "toy_single", "seed": 1},
                  {"env": "wordle", "seed": 22, "options": {"difficulty": "brutal"}},
                  {"env": "wordle", "seed": 21, "options": {"difficulty": "easy"}}]
        results = http.post("/v1/sessions/starts", json={"starts": starts}).json()["results"]
        assert [r["status"] for r in results] == [200, 200, 404, 422, 422, 200], results
        assert "single-turn" in results[3]["detail"] and "difficulty" in results[4]["detail"]
        assert results[0]["observation"] == GAME_ENVS["wordle"].replay(21, None, []).observation
        assert results[5]["observation"] == GAME_ENVS["wordle"].replay(21, {"difficulty": "easy"}, []).observation
        ids = [results[i]["session_id"] for i in (0, 1, 5)]
        assert step(http, ids[0], "CRANE", "1").status_code == 200  # the single routes take the same ids
        assert http.get(f"/v1/sessions/{ids[1]}").json()["env"] == "toy_counter"
        ended = http.post("/v1/sessions/deletes", json={"session_ids": [*ids, "nope", ids[0]]}).json()["results"]
        assert [r["status"] for r in ended] == [200, 200, 200, 404, 404], ended
        assert [r["session_id"] for r in ended[:3]] == ids and ended[0]["actions"] == ["CRANE"]
        assert ended[2]["options"] == {"difficulty": "easy"} and ended[1]["total_reward"] == 0.0
        assert all(http.get(f"/v1/sessions/{session_id}").status_code == 404 for session_id in ids)
        same_worker = http.post("/v1/sessions/starts", json={"starts": [{"env": "wordle", "seed": s} for s in range(3)]})
        started = same_worker.json()["results"]  # one worker: request and answer pass through the gateway
        assert [r["status"] for r in started] == [200] * 3 and len({r["session_id"][:9] for r in started}) == 1
        assert [r["observation"] for r in started] == [GAME_ENVS["wordle"].replay(s, None, []).observation
                                                      for s in range(3)]
        ended = http.post("/v1/sessions/deletes", json={"session_ids": [r["session_id"] for r in started]})
        assert [r["status"] for r in ended.json()["results"]] == [200] * 3
        for bad in [{"starts": []}, {"starts": [{"seed": 1}]}, {"starts": [{"env": "wordle", "seed": -1}]}, {}]:
            assert http.post("/v1/sessions/starts", json=bad).status_code == 422, bad
        for bad in [{"session_ids": []}, {"session_ids": [""]}, {"session_ids": "x"}, {}]:
            assert http.post("/v1/sessions/deletes", json=bad).status_code == 422, bad
        paths = http.get("/openapi.json").json()["paths"]
        assert "/v1/sessions/starts" in paths and "/v1/sessions/deletes" in paths


def worker_of(server: RunningServer, family: str) -> httpx.Client:
    """A client of the gateway's worker for `family`, on its Unix socket (its /healthz has the scoring pids)."""
    commands = [process.cmdline() for process in psutil.Process(server.process.pid).children()]
    command = next(c for c in commands if "--family" in c and c[c.index("--family") + 1] == family)
    return httpx.Client(transport=httpx.HTTPTransport(uds=command[command.index("--socket") + 1]),
                        base_url="http://worker", timeout=30)


def test_a_step_whose_open_game_died_with_its_scoring_processes_is_rebuilt_to_the_same_answer(server):
    """Steps are played on the game their scoring process holds open; when those processes are killed, the next
    step is rebuilt by replay in a new one, and answers exactly what the game played on answers."""
    env = GAME_ENVS["wordle"]
    seed = next(seed for seed in range(40, 200) if len(env.play_expert(seed, env.Options())[0]) >= 4)
    expert = env.play_expert(seed, env.Options())[0]
    with server.client() as http, worker_of(server, "games") as worker:
        counts = worker.get("/healthz").json()["sessions"]
        played_on = start(http, "wordle", seed)["session_id"]
        open_answers = play(http, played_on, expert)
        after = worker.get("/healthz").json()  # most on open games (the other process takes a step when its own
        assert after["sessions"]["steps_on_open_games"] > counts["steps_on_open_games"]  # is busy a moment)
        rebuilt = start(http, "wordle", seed)["session_id"]
        assert play(http, rebuilt, expert[:1]) == open_answers[:1]
        for pid in after["pids"]:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60  # the pool replaces a process that died idle without waiting for a job
        while not set(worker.get("/healthz").json()["pids"]).isdisjoint(after["pids"]) \
                or worker.get("/healthz").json()["serving"] < len(after["pids"]):
            assert time.monotonic() < deadline, "the killed scoring processes were not replaced"
            time.sleep(0.05)
        answers = play(http, rebuilt, expert)  # the first is a retry (request_id step-0): its recorded answer
        assert answers == open_answers
        health = worker.get("/healthz").json()
        assert health["replaced"] > after["replaced"]
        assert health["sessions"]["steps_rebuilt"] > after["sessions"]["steps_rebuilt"]


def test_200_concurrent_wordle_sessions_play_to_the_end_without_cross_talk(server):
    env = GAME_ENVS["wordle"]
    seeds = list(range(1000, 1200))
    expert = {seed: env.play_expert(seed, env.Options())[0] for seed in seeds}
    with server.client() as http, concurrent.futures.ThreadPoolExecutor(16) as pool:
        began = time.monotonic()
        sessions = dict(zip(seeds, pool.map(lambda seed: start(http, "wordle", seed)["session_id"], seeds)))
        playing = [seed for seed in seeds if expert[seed]]
        turn = 0
        while playing:  # every live session takes its next step in the same round, interleaved over 16 threads
            answers = pool.map(lambda seed: step(http, sessions[seed], expert[seed][turn], f"{seed}/{turn}"), playing)
            for seed, answer in zip(playing, answers):
                assert answer.status_code == 200, answer.text
                want = env.replay(seed, None, expert[seed][:turn + 1])
                assert answer.json()["observation"] == want.observation, seed
                assert answer.json()["reward"] == want.reward
            turn += 1
            playing = [seed for seed in playing if turn < len(expert[seed])]
        states = list(pool.map(lambda seed: http.get(f"/v1/sessions/{sessions[seed]}").json(), seeds))
        assert all(s["terminated"] and s["total_reward"] == 1.0 for s in states)
        assert [s["seed"] for s in states] == seeds and [s["actions"] for s in states] == [expert[s] for s in seeds]
        assert set(pool.map(lambda seed: http.delete(f"/v1/sessions/{sessions[seed]}").status_code, seeds)) == {200}
        assert time.monotonic() - began < 120


# ---- expiry, the cap, and a worker that dies (small gateway) --------------------------------------------------


def test_sessions_expire_after_the_idle_ttl_and_use_keeps_them_alive(small_server):
    with small_server.client() as http:
        kept = start(http, "toy_counter", 1)["session_id"]
        idle = start(http, "toy_counter", 2)["session_id"]
        time.sleep(TTL_S * 0.6)
        assert step(http, kept, "up", "k").status_code == 200
        state = http.get(f"/v1/sessions/{idle}").json()  # looking does not keep a session alive
        assert state["idle_s"] >= TTL_S * 0.6 and state["expires_in_s"] <= TTL_S * 0.4
        time.sleep(TTL_S * 0.6)
        gone = step(http, idle, "up")
        assert gone.status_code == 404 and "expired after 3 s idle" in gone.json()["detail"]
        assert step(http, kept, "up", "k2").status_code == 200
        assert http.delete(f"/v1/sessions/{kept}").status_code == 200


def test_the_live_session_cap_answers_429_with_retry_after(small_server):
    with small_server.client() as http:
        live = [start(http, "toy_counter", seed)["session_id"] for seed in range(3)]
        refused = http.post("/v1/envs/toy_counter/sessions", json={"seed": 9})
        assert refused.status_code == 429 and "at most 3 live sessions" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= TTL_S
        batch = {"steps": [{"session_id": session_id, "action": "up"} for session_id in live]}  # 3 > queue bound 2
        results = http.post("/v1/sessions/steps", json=batch).json()["results"]
        assert [r["status"] for r in results] == [429] * 3 and "limit is 2" in results[0]["detail"]
        assert http.post("/v1/sessions/steps", json={"steps": batch["steps"][:2]}).status_code == 200
        over_cap = http.post("/v1/sessions/starts", json={"starts": [{"env": "toy_counter", "seed": 9}]})
        assert over_cap.json()["results"][0]["status"] == 429 and "at most 3" in over_cap.json()["results"][0]["detail"]
        assert http.delete(f"/v1/sessions/{live[0]}").status_code == 200
        live[0] = start(http, "toy_counter", 9)["session_id"]
        for session_id in live:
            assert http.delete(f"/v1/sessions/{session_id}").status_code == 200


def test_a_session_whose_worker_died_answers_410_never_a_new_game(small_server):
    with small_server.client() as http:
        session_id = start(http, "toy_counter", 3)["session_id"]
        assert step(http, session_id, "up", "1").status_code == 200
        gateway = psutil.Process(small_server.process.pid)
        worker = next(p for p in gateway.children() if "rewardgym.worker" in " ".join(p.cmdline()))
        worker.kill()
        deadline = time.monotonic() + 30
        while (answer := step(http, session_id, "up", "2")).status_code == 503:  # until the gateway notices
            assert time.monotonic() < deadline, small_server.log()
            time.sleep(0.1)
        assert answer.status_code == 410 and "restarted" in answer.json()["detail"], answer.text
        assert http.get(f"/v1/sessions/{session_id}").status_code == 410
        gone = http.post("/v1/sessions/deletes", json={"session_ids": [session_id]}).json()["results"]
        assert gone[0]["status"] == 410 and "restarted" in gone[0]["detail"]
        while http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, small_server.log()
            time.sleep(0.1)
        assert step(http, session_id, "up", "2").status_code == 410  # the new worker does not start a new game
        fresh = start(http, "toy_counter", 3)
        assert step(http, fresh["session_id"], "up", "1").json()["info"]["count"] == 1


def test_a_worker_out_of_rotation_keeps_its_sessions_for_when_it_is_back(tmp_path):
    """A remote worker that misses its health checks (a busy node) is not a restarted one: 503 meanwhile, then the
    same game goes on."""
    url, worker = start_tcp_worker(tmp_path, TOY_TURNS)
    server = start_server(tmp_path, "--runtime", "attached", "--worker-url", url, "--expect-families", "toy_turns")
    try:
        with server.client() as http:
            session_id = start(http, "toy_counter", 3)["session_id"]
            assert step(http, session_id, "up", "1").status_code == 200
            os.killpg(worker.pid, signal.SIGSTOP)
            deadline = time.monotonic() + 60
            while http.get("/readyz").json()["workers"][url] == "ready":
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.2)
            paused = step(http, session_id, "up", "2")
            assert paused.status_code == 503 and "out of rotation" in paused.json()["detail"]
            assert paused.headers["retry-after"] == "1"
            os.killpg(worker.pid, signal.SIGCONT)
            while http.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.2)
            resumed = step(http, session_id, "up", "2")
            assert resumed.status_code == 200 and resumed.json()["info"]["count"] == 2
    finally:
        os.killpg(worker.pid, signal.SIGCONT)
        stop_server(server)
        kill(worker)


# ---- the store alone (a fake clock) ---------------------------------------------------------------------------


def test_the_store_sweeps_idle_sessions_oldest_first_and_refuses_past_its_cap():
    now = [100.0]
    store = SessionStore(SessionSettings(ttl_s=10, max_sessions=2), clock=lambda: now[0])
    ids = []
    for seed in range(2):
        store.reserve()
        ids.append(store.add(Session("g", "1", seed, {}, {"terminated": False, "truncated": False}, now[0])))
        now[0] += 4
    with pytest.raises(HTTPProblem) as refused:
        store.reserve()
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "2"}
    store.get(ids[0])  # used at 108: now the newest
    now[0] = 115.0
    store.reserve()  # ids[1] (used at 104) expired at 114
    assert len(store) == 1
    with pytest.raises(HTTPProblem) as expired:
        store.get(ids[1])
    assert expired.value.status == 404
    assert store.get(f"abcdef01-{ids[0]}") is store.get(ids[0])  # the gateway's public form of the id
    earlier_run = "0" * 12 + ids[0][12:] if not ids[0].startswith("0" * 12) else "1" * 12 + ids[0][12:]
    with pytest.raises(HTTPProblem) as gone:
        store.get(earlier_run)
    assert gone.value.status == 410


def test_session_settings_come_from_the_environment_with_clear_errors():
    assert SessionSettings.from_environ({}) == SessionSettings()
    assert SessionSettings.from_environ({"REWARDGYM_SESSION_TTL_S": "2.5", "REWARDGYM_MAX_SESSIONS": "7"}) == \
        SessionSettings(ttl_s=2.5, max_sessions=7)
    for bad in [{"REWARDGYM_SESSION_TTL_S": "soon"}, {"REWARDGYM_MAX_SESSIONS": "0"},
                {"REWARDGYM_SESSION_TTL_S": "nan"}]:
        with pytest.raises(ValueError, match="Expected"):
            SessionSettings.from_environ(bad)
