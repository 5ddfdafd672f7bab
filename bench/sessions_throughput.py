"""Steps per second of `wordle` through the sessions API, against a direct in-process loop over the same games.

    .venv/bin/python bench/sessions_throughput.py [--episodes 400] [--concurrency 64] [--repeats 3]

Side by side in one run, interleaved: (a) the direct loop (one gymnasium env in this process: reset, then the
expert's guesses, episode after episode: what a trainer without a reward server does), (b) `--concurrency`
clients, each playing whole episodes through the gateway (start a session, step the same guesses, delete it),
local runtime, 2 scoring processes. Both count steps (guesses) over the time of everything, resets and session
starts included. Also the cost of one step served by replay (the game rebuilt from its seed and actions, as each
scoring process does) against one step of a live env, by step number. Figures go to
bench/results/sessions_throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from bench.common import Server, median, save  # noqa: E402
from rewardgym.server.worker_client import WorkerClient  # noqa: E402
from rewardgym_games import FAMILY  # noqa: E402

WORDLE = FAMILY.instantiate()["wordle"]


def transcripts(episodes: int) -> list[tuple[int, list[str]]]:
    """(seed, the expert's guesses) per episode: the same moves for both sides."""
    return [(seed, WORDLE.play_expert(seed, WORDLE.Options())[0]) for seed in range(episodes)]


def direct_loop(games: list[tuple[int, list[str]]]) -> float:
    env = WORDLE.make()
    options = WORDLE.Options().model_dump()
    steps = 0
    started = time.perf_counter()
    for seed, actions in games:
        env.reset(seed=seed, options=options)
        for action in actions:
            env.step(action)
            steps += 1
    return steps / (time.perf_counter() - started)


async def request(http: WorkerClient, method: str, path: str, body: dict | None = None) -> dict:
    answer = await http.request(method, path, None if body is None else json.dumps(body).encode(), 120)
    if answer.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.content[:300]!r}")
    return answer.json() if answer.content else {}


async def through_sessions(url: str, games: list[tuple[int, list[str]]], concurrency: int) -> float:
    """Steps/s of `concurrency` players. The client is the gateway's own keep-alive HTTP/1.1 client: httpx spent
    6-14 ms of CPU per request here, more than gateway and worker together, and this measures the server."""
    queue = list(games)
    steps = 0
    http = WorkerClient.for_url(url)

    call = functools.partial(request, http)

    async def player() -> None:
        nonlocal steps
        while queue:
            seed, actions = queue.pop()
            session_id = (await call("POST", "/v1/envs/wordle/sessions", {"seed": seed}))["session_id"]
            for index, action in enumerate(actions):
                last = await call("POST", f"/v1/sessions/{session_id}/step",
                                  {"action": action, "request_id": str(index)})
                steps += 1
            await call("DELETE", f"/v1/sessions/{session_id}")
            if not last["terminated"] or last["reward"] != 1.0:
                raise RuntimeError(f"seed {seed}: expected the expert to win, got {last}")

    try:
        began = time.perf_counter()
        await asyncio.gather(*(player() for _ in range(concurrency)))
        return steps / (time.perf_counter() - began)
    finally:
        await http.aclose()


async def batched_steps(url: str, games: list[tuple[int, list[str]]], width: int,
                        cpu: Callable[[], dict[str, float]]) -> tuple[float, float, dict[str, float]]:
    """Steps/s when `width` sessions step together, one `POST /v1/sessions/steps` per turn (a vectorised env):
    over everything (session starts and deletes included), over the step requests alone, and the CPU ms per step
    of the step requests alone (`cpu()`: CPU seconds so far by part)."""
    http = WorkerClient.for_url(url)

    call = functools.partial(request, http)

    steps, stepping = 0, 0.0
    step_cpu: dict[str, float] = {}
    try:
        began = time.perf_counter()
        for wave in range(0, len(games), width):
            group = games[wave:wave + width]
            starts = [call("POST", "/v1/envs/wordle/sessions", {"seed": seed}) for seed, _ in group]
            ids = [started["session_id"] for started in await asyncio.gather(*starts)]
            for turn in range(max(len(actions) for _, actions in group)):
                batch = [{"session_id": sid, "action": actions[turn], "request_id": str(turn)}
                         for sid, (_, actions) in zip(ids, group) if turn < len(actions)]
                turn_began, cpu_before = time.perf_counter(), cpu()
                results = (await call("POST", "/v1/sessions/steps", {"steps": batch}))["results"]
                stepping += time.perf_counter() - turn_began
                for part, seconds in cpu().items():
                    step_cpu[part] = step_cpu.get(part, 0.0) + seconds - cpu_before[part]
                if any(result["status"] != 200 for result in results):
                    raise RuntimeError(f"a step failed: {next(r for r in results if r['status'] != 200)}")
                steps += len(batch)
            await asyncio.gather(*(call("DELETE", f"/v1/sessions/{sid}") for sid in ids))
        alone_ms = {part: seconds / steps * 1000 for part, seconds in step_cpu.items()}
        return steps / (time.perf_counter() - began), steps / stepping, alone_ms
    finally:
        await http.aclose()


def cpu_seconds(server: Server) -> dict[str, float]:
    """CPU time so far of the gateway, its workers with their scoring processes, and this (client) process."""
    gateway = psutil.Process(server.process.pid)
    workers = 0.0
    for child in gateway.children(recursive=True):
        try:
            workers += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return {"gateway": sum(gateway.cpu_times()[:2]), "worker": workers, "client": sum(psutil.Process().cpu_times()[:2])}


def cpu_per_step(runs: list[dict[str, float]], what: str) -> tuple[dict[str, float], float]:
    """Median CPU ms per step of each part, and the steps/s that allows on this machine's cores when idle."""
    cpu_ms = {part: round(median([run[part] for run in runs]), 3) for part in runs[0]}
    ceiling = (psutil.cpu_count() or 1) * 1000 / sum(cpu_ms.values())
    print(f"{what}: CPU per step (ms, median): {cpu_ms}; so at most "
          f"{ceiling:.0f} steps/s on {psutil.cpu_count()} idle cores")
    return cpu_ms, ceiling


def replay_cost_us(games: list[tuple[int, list[str]]], rounds: int = 200) -> dict[str, dict[int, float]]:
    """Microseconds per step: served by replay (what a scoring process does) vs stepping a live env."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=400, help="episodes per sessions run")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    games = transcripts(args.episodes)
    steps_per_episode = sum(len(actions) for _, actions in games) / len(games)
    cost = replay_cost_us(games)
    print(f"one step, by step number: replay {cost['replay_us']} us; live env {cost['live_step_us']} us")
    server = Server("--families", "games", "--processes", "2")
    try:
        asyncio.run(through_sessions(server.url, games[:64], args.concurrency))  # warm connections and processes
        direct_runs, session_runs, cpu_runs, batched_runs, batched_cpu_runs = [], [], [], [], []
        for repeat in range(args.repeats):  # interleaved, so both see the same machine noise
            direct_runs.append(direct_loop(games * 10))
            before = cpu_seconds(server)
            session_runs.append(asyncio.run(through_sessions(server.url, games, args.concurrency)))
            steps = steps_per_episode * len(games)
            cpu_runs.append({k: (v - before[k]) / steps * 1000 for k, v in cpu_seconds(server).items()})
            before = cpu_seconds(server)
            batched_runs.append(asyncio.run(batched_steps(server.url, games, args.concurrency,
                                                          lambda: cpu_seconds(server))))
            batched_cpu_runs.append({k: (v - before[k]) / steps * 1000 for k, v in cpu_seconds(server).items()})
            print(f"run {repeat + 1}: direct loop {direct_runs[-1]:8.1f} steps/s   sessions "
                  f"{session_runs[-1]:7.1f} steps/s   batched steps {batched_runs[-1][0]:7.1f} steps/s "
                  f"(step requests alone {batched_runs[-1][1]:7.1f})", flush=True)
    finally:
        server.stop()
    direct, sessions = median(direct_runs), median(session_runs)
    ratios = [s / d for s, d in zip(session_runs, direct_runs)]
    batched, batched_alone = median([r[0] for r in batched_runs]), median([r[1] for r in batched_runs])
    print(f"batched: {batched:.1f} steps/s ({batched / direct:.3f}x), step requests alone {batched_alone:.1f} "
          f"steps/s ({batched_alone / direct:.3f}x)")
    cpu_ms, ceiling = cpu_per_step(cpu_runs, "one step per request")
    batched_cpu_ms, batched_ceiling = cpu_per_step(batched_cpu_runs, "batched steps")
    alone_cpu_ms, alone_ceiling = cpu_per_step([run[2] for run in batched_runs], "batched step requests alone")
    print(f"median: direct loop {direct:.1f} steps/s, sessions ({args.concurrency} concurrent) {sessions:.1f} "
          f"steps/s, ratio {sessions / direct:.3f}x (median of per-run ratios {median(ratios):.3f}x); target 0.5x")
    path = save("sessions_throughput", {
        "env": "wordle", "episodes_per_run": args.episodes, "steps_per_episode": round(steps_per_episode, 2),
        "concurrency": args.concurrency, "scoring_processes": 2, "repeats": args.repeats,
        "direct_steps_per_s": [round(r, 1) for r in direct_runs],
        "sessions_steps_per_s": [round(r, 1) for r in session_runs],
        "median_direct_steps_per_s": round(direct, 1), "median_sessions_steps_per_s": round(sessions, 1),
        "ratio": round(sessions / direct, 4), "median_of_ratios": round(median(ratios), 4), "target_ratio": 0.5,
        "batched_steps_per_s": [round(r[0], 1) for r in batched_runs],
        "batched_step_requests_alone_steps_per_s": [round(r[1], 1) for r in batched_runs],
        "median_batched_steps_per_s": round(batched, 1), "batched_ratio": round(batched / direct, 4),
        "median_batched_step_requests_alone_steps_per_s": round(batched_alone, 1),
        "batched_step_requests_alone_ratio": round(batched_alone / direct, 4),
        "cpu_ms_per_step": cpu_ms, "steps_per_s_ceiling_on_idle_cores": round(ceiling, 1),
        "batched_cpu_ms_per_step": batched_cpu_ms,
        "batched_steps_per_s_ceiling_on_idle_cores": round(batched_ceiling, 1),
        "batched_step_requests_alone_cpu_ms_per_step": alone_cpu_ms,
        "batched_step_requests_alone_steps_per_s_ceiling_on_idle_cores": round(alone_ceiling, 1),
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()], **cost,
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
