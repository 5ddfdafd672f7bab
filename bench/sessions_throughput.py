"""Steps per second of `wordle` through the sessions API, against a direct in-process loop over the same games.

    .venv/bin/python bench/sessions_throughput.py [--episodes 800] [--width 64] [--repeats 3]

Side by side in one run, interleaved so that each sees the same machine:

(a) the direct loop: one gymnasium env in this process, reset, then the expert's guesses, episode after episode
    (what a trainer does without a reward server);
(b) the sessions API as a trainer's vectorised env uses it: `--width` sessions live at once, all stepped together
    in one `POST /v1/sessions/steps` per turn; the sessions that finished in a turn are deleted in one
    `POST /v1/sessions/deletes` while their replacements start in one `POST /v1/sessions/starts` (gymnasium's
    autoreset), until `--episodes` episodes are played;
(c) the same games with one request per call: `--width` concurrent clients, each starting a session, stepping it
    one request per guess and deleting it (the single routes).

Every side counts guesses over the time of everything (resets, session starts and deletes included). For (b),
the CPU each step cost, by process (gateway, worker, its scoring processes, and this client), from the processes'
CPU times: what the steps/s would be on idle cores, whatever else the machine was doing. Also the cost of one step
by replay (the game rebuilt from its seed and actions, what a scoring process does for a game it does not hold
open) against one step of a live env. Local runtime, 2 scoring processes. Figures go to
bench/results/sessions_throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import psutil  # noqa: E402

from bench.common import Server, median, save  # noqa: E402
from rewardgym import json_codec  # noqa: E402
from rewardgym.server.worker_client import WorkerClient  # noqa: E402
from rewardgym_games import FAMILY  # noqa: E402

WORDLE = FAMILY.instantiate()["wordle"]
SCORING_PROCESSES = 2
Game = tuple[int, list[str]]


def transcripts(episodes: int) -> list[Game]:
    """(seed, the expert's guesses) per episode: the same moves for every side."""
    return [(seed, WORDLE.play_expert(seed, WORDLE.Options())[0]) for seed in range(episodes)]


def direct_loop(games: list[Game]) -> tuple[float, float]:
    """Steps/s, and CPU ms per step."""
    env = WORDLE.make()
    options = WORDLE.Options().model_dump()
    steps = 0
    started, cpu = time.perf_counter(), time.process_time()
    for seed, actions in games:
        env.reset(seed=seed, options=options)
        for action in actions:
            env.step(action)
            steps += 1
    return steps / (time.perf_counter() - started), (time.process_time() - cpu) / steps * 1000


async def call(http: WorkerClient, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One request; the client's JSON is orjson's, as a trainer's fast client would use."""
    answer = await http.request(method, path, None if body is None else json_codec.dumps(body, _dumps), 120)
    if answer.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.content[:300]!r}")
    return json_codec.loads(answer.content, json.loads)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def succeeded(results: list[dict[str, Any]], what: str) -> list[dict[str, Any]]:
    failed = [result for result in results if result["status"] != 200]
    if failed:
        raise RuntimeError(f"{len(failed)} {what} failed, e.g. {failed[0]}")
    return results


async def vectorised(url: str, games: list[Game], width: int) -> float:
    """Steps/s of a vectorised env of `width` sessions with autoreset, every call batched (side (b))."""
    http = WorkerClient.for_url(url)
    waiting = list(reversed(games))
    live: list[tuple[str, Game, int]] = []  # (session id, game, next turn)
    finished: list[str] = []
    steps = 0

    async def start(new: list[Game]) -> list[tuple[str, Game, int]]:
        if not new:
            return []
        starts = [{"env": "wordle", "seed": seed} for seed, _ in new]
        started = succeeded((await call(http, "POST", "/v1/sessions/starts", {"starts": starts}))["results"], "starts")
        return [(result["session_id"], game, 0) for result, game in zip(started, new)]

    async def delete(session_ids: list[str]) -> None:
        if session_ids:
            succeeded((await call(http, "POST", "/v1/sessions/deletes", {"session_ids": session_ids}))["results"],
                      "deletes")

    try:
        began = time.perf_counter()
        while waiting or live:
            new = [waiting.pop() for _ in range(min(width - len(live), len(waiting)))]
            started, _ = await asyncio.gather(start(new), delete(finished))
            live += started
            batch = [{"session_id": sid, "action": actions[turn], "request_id": str(turn)}
                     for sid, (_, actions), turn in live]
            results = succeeded((await call(http, "POST", "/v1/sessions/steps", {"steps": batch}))["results"], "steps")
            steps += len(batch)
            playing, finished = [], []
            for (sid, game, turn), result in zip(live, results):
                if result["terminated"] or result["truncated"]:
                    if result["reward"] != 1.0:
                        raise RuntimeError(f"seed {game[0]}: expected the expert to win, got {result}")
                    finished.append(sid)
                else:
                    playing.append((sid, game, turn + 1))
            live = playing
        await delete(finished)
        return steps / (time.perf_counter() - began)
    finally:
        await http.aclose()


async def one_per_request(url: str, games: list[Game], concurrency: int) -> float:
    """Steps/s of `concurrency` clients, each playing whole episodes one request per call (side (c))."""
    queue = list(games)
    steps = 0
    http = WorkerClient.for_url(url)

    async def player() -> None:
        nonlocal steps
        while queue:
            seed, actions = queue.pop()
            session_id = (await call(http, "POST", "/v1/envs/wordle/sessions", {"seed": seed}))["session_id"]
            for index, action in enumerate(actions):
                last = await call(http, "POST", f"/v1/sessions/{session_id}/step",
                                  {"action": action, "request_id": str(index)})
                steps += 1
            await call(http, "DELETE", f"/v1/sessions/{session_id}")
            if not last["terminated"] or last["reward"] != 1.0:
                raise RuntimeError(f"seed {seed}: expected the expert to win, got {last}")

    try:
        began = time.perf_counter()
        await asyncio.gather(*(player() for _ in range(concurrency)))
        return steps / (time.perf_counter() - began)
    finally:
        await http.aclose()


class ServerProcesses:
    """The gateway, its worker and the worker's scoring processes: CPU seconds so far, and the worker's health."""

    def __init__(self, server: Server) -> None:
        self.gateway = psutil.Process(server.process.pid)
        self.worker = next(p for p in self.gateway.children() if "rewardgym.worker" in " ".join(p.cmdline()))
        command = self.worker.cmdline()
        self.socket = command[command.index("--socket") + 1]

    def cpu(self) -> dict[str, float]:
        """Scoring processes: the fork server's own time, its live children's, and its reaped children's (processes
        recycled meanwhile)."""
        scoring = 0.0
        for server in self.worker.children():  # the fork server and the resource tracker
            try:
                times = server.cpu_times()
                scoring += times.user + times.system + times.children_user + times.children_system
                for process in server.children():
                    scoring += sum(process.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return {"gateway": sum(self.gateway.cpu_times()[:2]), "worker": sum(self.worker.cpu_times()[:2]),
                "scoring_processes": scoring, "client": sum(psutil.Process().cpu_times()[:2])}

    def sessions(self) -> dict[str, int]:
        """The worker's /healthz `sessions` counts (steps on open games, steps rebuilt by replay)."""
        with httpx.Client(transport=httpx.HTTPTransport(uds=self.socket), base_url="http://worker") as worker:
            return worker.get("/healthz").json()["sessions"]


def replay_cost_us(games: list[Game], rounds: int = 200) -> dict[str, dict[int, float]]:
    """Microseconds per step: served by replay (a scoring process without the game open) vs a live env's step."""
    seed, actions = max(games[:50], key=lambda game: len(game[1]))
    replay, live = {}, {}
    env = WORDLE.make()
    for step in range(1, len(actions) + 1):
        began = time.perf_counter()
        for _ in range(rounds):
            WORDLE.replay(seed, None, actions[:step], strict=True)
        replay[step] = round((time.perf_counter() - began) / rounds * 1e6, 1)
        total = 0.0
        for _ in range(rounds):
            env.reset(seed=seed, options=WORDLE.Options().model_dump())
            for action in actions[:step - 1]:
                env.step(action)
            began = time.perf_counter()
            env.step(actions[step - 1])
            total += time.perf_counter() - began
        live[step] = round(total / rounds * 1e6, 1)
    return {"replay_us": replay, "live_step_us": live}


def measure(games: list[Game], width: int, repeats: int) -> dict[str, Any]:
    """The three sides, interleaved `repeats` times against one server, and what the server did meanwhile."""
    steps = sum(len(actions) for _, actions in games)
    server = Server("--families", "games", "--processes", str(SCORING_PROCESSES))
    runs: dict[str, list[float]] = {"direct": [], "vectorised": [], "one_per_request": []}
    cpu_runs: list[dict[str, float]] = []
    direct_cpu_ms: list[float] = []
    try:
        processes = ServerProcesses(server)
        asyncio.run(vectorised(server.url, games[:128], width))  # warm connections and processes
        served_before = processes.sessions()
        for repeat in range(repeats):  # interleaved, so every side sees the same machine noise
            rate, cpu_ms = direct_loop(games * 5)
            runs["direct"].append(rate)
            direct_cpu_ms.append(cpu_ms)
            before = processes.cpu()
            runs["vectorised"].append(asyncio.run(vectorised(server.url, games, width)))
            cpu_runs.append({part: (seconds - before[part]) / steps * 1000
                             for part, seconds in processes.cpu().items()})
            runs["one_per_request"].append(asyncio.run(one_per_request(server.url, games, width)))
            print(f"run {repeat + 1}: (a) direct loop {runs['direct'][-1]:8.1f} steps/s   (b) vectorised sessions "
                  f"{runs['vectorised'][-1]:7.1f} steps/s   (c) one request per call "
                  f"{runs['one_per_request'][-1]:7.1f} steps/s", flush=True)
        served = {key: value - served_before[key] for key, value in processes.sessions().items() if key != "live"}
    finally:
        server.stop()
    return {"runs": runs, "cpu_runs": cpu_runs, "direct_cpu_ms": direct_cpu_ms, "served": served}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=800, help="episodes per run of each side")
    parser.add_argument("--width", type=int, default=64, help="concurrent sessions")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    games = transcripts(args.episodes)
    cost = replay_cost_us(games)
    print(f"one step, by step number: replay {cost['replay_us']} us; live env {cost['live_step_us']} us")
    load_at_start = [round(x, 1) for x in os.getloadavg()]
    measured = measure(games, args.width, args.repeats)
    runs, served = measured["runs"], measured["served"]
    open_share = served["steps_on_open_games"] / max(1, sum(served.values()))
    medians = {side: median(values) for side, values in runs.items()}
    ratios = [b / a for a, b in zip(runs["direct"], runs["vectorised"])]
    cpu_ms = {part: round(median([run[part] for run in measured["cpu_runs"]]), 4) for part in measured["cpu_runs"][0]}
    server_ms = sum(ms for part, ms in cpu_ms.items() if part != "client")
    ceiling = (psutil.cpu_count() or 1) * 1000 / sum(cpu_ms.values())
    direct_ms = median(measured["direct_cpu_ms"])
    load = [round(x, 1) for x in os.getloadavg()]
    print(f"(a) CPU per step {direct_ms:.4f} ms, so {1000 / direct_ms:.0f} steps/s on an idle core")
    print(f"(b) CPU per step (ms, median): {cpu_ms}; server total {server_ms:.3f} ms; so at most {ceiling:.0f} "
          f"steps/s on {psutil.cpu_count()} idle cores ({ceiling * direct_ms / 1000:.3f}x (a) on an idle core)")
    print(f"steps of (b) and (c) played on their open game: {open_share:.1%} ({served})")
    print(f"median: (a) {medians['direct']:.1f} steps/s, (b) {medians['vectorised']:.1f} steps/s = "
          f"{medians['vectorised'] / medians['direct']:.3f}x (median of per-run ratios {median(ratios):.3f}x; "
          f"target 0.5x), (c) {medians['one_per_request']:.1f} steps/s = "
          f"{medians['one_per_request'] / medians['direct']:.3f}x; load average {load_at_start} at the start, "
          f"{load} at the end")
    path = save("sessions_throughput", {
        "env": "wordle", "episodes_per_run": args.episodes,
        "steps_per_episode": round(sum(len(actions) for _, actions in games) / len(games), 2),
        "width": args.width, "scoring_processes": SCORING_PROCESSES, "repeats": args.repeats,
        **{f"{side}_steps_per_s": [round(r, 1) for r in values] for side, values in runs.items()},
        **{f"median_{side}_steps_per_s": round(value, 1) for side, value in medians.items()},
        "ratio": round(medians["vectorised"] / medians["direct"], 4), "median_of_ratios": round(median(ratios), 4),
        "target_ratio": 0.5, "one_per_request_ratio": round(medians["one_per_request"] / medians["direct"], 4),
        "direct_cpu_ms_per_step": round(direct_ms, 5), "vectorised_cpu_ms_per_step": cpu_ms,
        "vectorised_steps_per_s_ceiling_on_idle_cores": round(ceiling, 1),
        "ceiling_ratio_on_idle_cores": round(ceiling * direct_ms / 1000, 4),
        "steps_served": served, "share_on_open_games": round(open_share, 4),
        "load_average_at_start": load_at_start, "load_average_at_end": load, **cost,
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
