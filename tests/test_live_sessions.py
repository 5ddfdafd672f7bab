"""Games kept open in a scoring process between steps (rewardgym/worker/live_sessions.py), in this process: a step on
an open game answers exactly what a replay answers, whatever happened before (another process served the last
step, the game was dropped for room, a step failed, two sessions shared a position)."""

from __future__ import annotations

import pytest

from rewardgym.protocol import Status
from rewardgym.worker.jobs import StepJob
from rewardgym.worker.live_sessions import LiveGames, capacity_from_environ
from rewardgym.worker.stepping import EPISODE_OVER, OPEN_GAME, play_step
from rewardgym_games import FAMILY as GAMES
from tests.support.toy_turns import FAMILY as TOY_TURNS

ENVS = {**GAMES.instantiate(), **TOY_TURNS.instantiate()}


def step(games: LiveGames, env: str, seed: int, actions: list[str], **options: str) -> tuple[Status, dict]:
    return play_step(ENVS[env], StepJob(env, seed, options, actions), games)


def answer(value: dict) -> dict:
    """What a step answers, without how it was served."""
    return {key: item for key, item in value.items() if key != OPEN_GAME}


@pytest.mark.parametrize("name", ["wordle", "tic_tac_toe", "connect_four", "frozen_lake", "minesweeper"])
def test_every_step_on_an_open_game_answers_what_its_replay_answers(name):
    env = ENVS[name]
    live, replayed = LiveGames(), LiveGames(capacity=0)
    for seed in (3, 4):
        expert, _ = env.play_expert(seed, env.Options(difficulty="easy"))
        actions = ["?!", *expert]  # an invalid move first: the retry rule's state lives in the open game too
        for played in range(len(actions) + 1):
            status, value = step(live, name, seed, actions[:played], difficulty="easy")
            assert status is Status.OK, value
            assert value[OPEN_GAME] is (played > 0)  # every step after the start found its game open
            again = step(replayed, name, seed, actions[:played], difficulty="easy")
            assert again[0] is Status.OK and again[1][OPEN_GAME] is False
            assert answer(value) == answer(again[1])
            if value["terminated"] or value["truncated"]:
                break
    assert len(live) == 0  # finished games are not kept: no step follows the last one
    assert live.hits > 0 and replayed.hits == 0


def test_a_step_served_elsewhere_then_back_here_never_uses_a_stale_game():
    """Process A holds the game after step 1; process B serves step 2; step 3 comes back to A, which must not play
    it on its game of step 1."""
    a, b = LiveGames(), LiveGames()
    actions = ["up", "wait", "up"]
    step(a, "toy_counter", 9, [])
    assert step(a, "toy_counter", 9, actions[:1])[1][OPEN_GAME]
    second = step(b, "toy_counter", 9, actions[:2])[1]
    assert second[OPEN_GAME] is False  # rebuilt by replay
    third = step(a, "toy_counter", 9, actions[:3])[1]
    assert third[OPEN_GAME] is False and third["info"]["count"] == 2 and third["observation"].endswith("turn 3")
    assert answer(third) == answer(step(LiveGames(0), "toy_counter", 9, actions)[1])


def test_sessions_at_the_same_position_each_get_a_game_of_their_own():
    """Two sessions of one seed (a GRPO group) start alike, then diverge; each keeps its own open game."""
    games = LiveGames()
    for _ in range(2):
        step(games, "toy_counter", 5, [])
    assert len(games) == 2
    first = step(games, "toy_counter", 5, ["up"])[1]
    second = step(games, "toy_counter", 5, ["wait"])[1]
    assert first[OPEN_GAME] and second[OPEN_GAME]
    assert first["info"]["count"] == 1 and second["info"]["count"] == 0
    assert step(games, "toy_counter", 5, ["up", "up"])[1]["info"]["count"] == 2
    assert step(games, "toy_counter", 5, ["wait", "up"])[1]["info"]["count"] == 1


def test_a_failing_step_drops_its_game_and_the_session_goes_on_by_replay():
    games = LiveGames()
    step(games, "toy_counter", 7, [])
    step(games, "toy_counter", 7, ["up"])
    status, value = step(games, "toy_counter", 7, ["up", "raise"])
    assert status is Status.ERROR and "RuntimeError: boom" in value["message"]
    assert len(games) == 0  # the game that raised mid-step is not kept half-played
    status, value = step(games, "toy_counter", 7, ["up", "up"])
    assert status is Status.OK and value[OPEN_GAME] is False and value["info"]["count"] == 2


def test_a_step_after_the_end_is_refused_and_bad_options_are_invalid():
    target = ENVS["toy_counter"].replay(1, None, []).info["target"]
    status, value = step(LiveGames(), "toy_counter", 1, ["up"] * (target + 1))
    assert status is Status.INVALID_TASK and value[EPISODE_OVER]
    status, value = step(LiveGames(), "wordle", 1, ["CRANE"], difficulty="brutal")
    assert status is Status.INVALID_TASK and "difficulty" in value["message"]
    status, value = step(LiveGames(), "toy_single", 1, [])
    assert status is Status.INVALID_TASK and "single-turn" in value["message"]


def test_past_capacity_the_least_recently_used_game_is_dropped_and_its_next_step_replays():
    games = LiveGames(capacity=2)
    for seed in (1, 2, 3):
        step(games, "toy_counter", seed, [])
    assert len(games) == 2
    assert step(games, "toy_counter", 1, ["up"])[1][OPEN_GAME] is False  # dropped: rebuilt
    assert step(games, "toy_counter", 3, ["up"])[1][OPEN_GAME] is True
    games.clear()
    assert len(games) == 0


def test_the_capacity_comes_from_the_environment():
    assert capacity_from_environ({}) == 2048
    assert capacity_from_environ({"REWARDGYM_LIVE_GAMES": "0"}) == 0
    with pytest.raises(ValueError, match="Expected an integer"):
        capacity_from_environ({"REWARDGYM_LIVE_GAMES": "many"})
