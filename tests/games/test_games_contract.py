"""The multi-turn contract (rewardgym.multiturn) on the games family: transcripts, replay, scoring, the catalogue."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from pydantic import ValidationError

from rewardgym import EpisodeOver, EpisodeTask, MultiTurnEnvironment, Status
from rewardgym.checks import EnvCheckError, check_env
from rewardgym.multiturn import MAX_ACTIONS, TranscriptError, format_actions, parse_actions
from rewardgym_games import FAMILY
from rewardgym_games.environment import GameEnvironment
from rewardgym_games.hangman import Hangman
from rewardgym_games.textgame import Outcome
from rewardgym_games.wordle import Wordle
from rewardgym_games.words import word_list

ENVS: dict[str, MultiTurnEnvironment] = FAMILY.instantiate()  # type: ignore[assignment]


def random_transcript(env: MultiTurnEnvironment, seed: int, length: int) -> list[str]:
    """Actions a careless player might send: the expert's, some junk, some repeats, in a seeded order."""
    rng = random.Random(seed)
    expert, _ = env.play_expert(seed, env.Options())  # type: ignore[attr-defined]
    pool = expert + ["?!", "1", "5", "up", "hit", "E", "3 3", "CRANE", "1234", "north", "pickup"]
    return [rng.choice(pool) for _ in range(length)]


def step_by_step(env: MultiTurnEnvironment, seed: int, options: dict, actions: list[str]) -> tuple[str, float, int]:
    game = env.make()
    observation, _ = game.reset(seed=seed, options=options)
    total, played = 0.0, 0
    for action in actions:
        observation, reward, terminated, truncated, _ = game.step(action)
        total += reward
        played += 1
        if terminated or truncated:
            break
    return observation, total, played


def test_parse_actions_reads_json_lists_and_lines():
    assert parse_actions('["CRANE", " slate "]') == ["CRANE", "slate"]
    assert parse_actions("CRANE\n\n  slate \n") == ["CRANE", "slate"]
    assert parse_actions("1 1") == ["1 1"]
    assert parse_actions(format_actions(["a b", "c"])) == ["a b", "c"]


@pytest.mark.parametrize("completion, message", [
    ("", "Expected at least one action"),
    ("  \n ", "Expected at least one action"),
    ("[]", "Expected at least one action"),
    ('["CRANE", 3]', "Expected a JSON list of strings, got a list with other values"),
    ("[CRANE]", "Expected a JSON list of strings, got text that is not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "Expected a JSON list of strings"),  # too deep for json, or not strings
    ("x\n" * (MAX_ACTIONS + 1), f"Expected at most {MAX_ACTIONS} actions"),
])
def test_transcripts_without_actions_are_refused_with_a_reason(completion, message):
    with pytest.raises(TranscriptError, match=message):
        parse_actions(completion)


def test_a_line_that_only_looks_like_json_is_an_action():
    assert parse_actions('["CRANE",') == ['["CRANE",']


@pytest.mark.parametrize("name", sorted(ENVS))
def test_transcript_score_equals_step_by_step_play(name):
    env = ENVS[name]
    for seed in range(6):
        for actions in (env.play_expert(seed, env.Options())[0], random_transcript(env, seed, 30)):  # type: ignore
            observation, total, played = step_by_step(env, seed, {"difficulty": "medium"}, actions)
            task = env.Task(seed=seed)
            for completion in (format_actions(actions), "\n".join(actions)):
                score = env.score(task, completion)
                assert score.status is Status.OK and score.reward == pytest.approx(total, abs=1e-9)
                assert score.details["actions_played"] == played
            episode = env.replay(seed, {"difficulty": "medium"}, actions)
            assert (episode.observation, episode.actions_played) == (observation, played)
            assert episode.total_reward == pytest.approx(total, abs=1e-9)


@pytest.mark.parametrize("name", sorted(ENVS))
def test_replay_of_a_prefix_is_the_session_state_after_that_many_steps(name):
    """What the sessions API relies on: replaying actions[:k] gives step k's observation, reward and flags."""
    env = ENVS[name]
    actions, _ = env.play_expert(4, env.Options(difficulty="easy"))  # type: ignore[attr-defined]
    game = env.make()
    observation, info = game.reset(seed=4, options={"difficulty": "easy"})
    start = env.replay(4, {"difficulty": "easy"}, [])
    assert (start.observation, start.info, start.reward, start.done) == (observation, info, 0.0, False)
    for k, action in enumerate(actions, start=1):
        observation, reward, terminated, truncated, info = game.step(action)
        episode = env.replay(4, env.Options(difficulty="easy"), actions[:k])
        assert (episode.observation, episode.reward, episode.terminated, episode.truncated, episode.info) == (
            observation, reward, terminated, truncated, info)
    assert episode.done and episode.total_reward == 1.0


def test_actions_after_the_end_are_not_played():
    env = ENVS["wordle"]
    actions, _ = env.play_expert(2, env.Options())  # type: ignore[attr-defined]
    episode = env.replay(2, None, actions + ["ABOUT", "?!"])
    assert episode.actions_played == len(actions) and episode.total_reward == 1.0
    score = env.score(env.Task(seed=2), format_actions(actions + ["ABOUT"]))
    assert score.reward == 1.0 and score.details["actions"] == len(actions) + 1


def test_an_unfinished_transcript_scores_what_it_earned_and_says_so():
    env = ENVS["blackjack"]
    score = env.score(env.Task(seed=1, options={"difficulty": "hard"}), "hit")
    assert score.status is Status.OK
    assert score.reward == pytest.approx(env.replay(1, {"difficulty": "hard"}, ["hit"]).total_reward)
    unfinished = env.score(ENVS["taxi"].Task(seed=1), "north")
    assert unfinished.reward == 0.0 and unfinished.details["finished"] is False


def test_empty_transcript_is_no_answer_and_bad_tasks_are_refused():
    env = ENVS["mastermind"]
    assert env.score(env.Task(seed=1), "   ").status is Status.NO_ANSWER
    for payload in ({"seed": -1}, {"seed": 1, "options": {"difficulty": "extreme"}}, {"seed": 1, "extra": 2},
                    {"options": {}}, {"seed": 2**64}):
        with pytest.raises(ValidationError):
            env.parse_task(payload)
    with pytest.raises(ValueError, match="Expected a seed"):
        env.replay(-3, None, [])


@pytest.mark.parametrize("name", sorted(ENVS))
def test_catalogue_marks_multi_and_the_task_schema_names_the_options(name):
    env = ENVS[name]
    info = env.info("games")
    assert info.kind == "multi" and info.generates_tasks
    schema = info.task_schema
    assert set(schema["properties"]) == {"seed", "options"}
    options_schema = next(iter(schema["$defs"].values()))
    assert options_schema["properties"]["difficulty"]["enum"] == ["easy", "medium", "hard"]
    task = env.parse_task(info.example["task"])
    assert isinstance(task, EpisodeTask) and env.score(task, info.example["completion"]).reward == 1.0


@pytest.mark.parametrize("name", sorted(ENVS))
def test_generated_prompt_is_the_opening_observation_and_the_answer_format(name):
    env = ENVS[name]
    generated = env.generate(random.Random(5), env.Options(difficulty="hard"))
    opening = env.replay(generated.task.seed, generated.task.options, []).observation
    assert generated.prompt.startswith(opening) and "JSON list of strings" in generated.prompt
    assert generated.task.options.difficulty == "hard"


def test_replay_is_the_same_in_another_process():
    """Sessions may be served by any scoring process: a game must not depend on hash seeds or process state."""
    script = (
        "import json; from rewardgym_games import FAMILY\n"
        "envs = FAMILY.instantiate(); out = {}\n"
        "for name, env in sorted(envs.items()):\n"
        "    actions, _ = env.play_expert(9, env.Options(difficulty='hard'))\n"
        "    e = env.replay(9, {'difficulty': 'hard'}, actions)\n"
        "    out[name] = [actions, e.observation, e.total_reward]\n"
        "print(json.dumps(out))\n"
    )
    runs = [json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                      env={"PYTHONHASHSEED": str(hash_seed), "PATH": "/usr/bin:/bin"}).stdout)
            for hash_seed in (1, 2)]
    assert runs[0] == runs[1]
    for name, (actions, observation, reward) in runs[0].items():
        env = ENVS[name]
        assert env.replay(9, {"difficulty": "hard"}, actions).observation == observation


def test_strict_replay_refuses_a_step_after_the_end():
    env = ENVS["tic_tac_toe"]
    actions, _ = env.play_expert(0, env.Options())  # type: ignore[attr-defined]
    assert env.replay(0, None, actions, strict=True).done
    with pytest.raises(EpisodeOver, match="expected no action after the game ended at action"):
        env.replay(0, None, actions + ["1"], strict=True)


class _GlobalRandomWordle(Wordle):
    """Breaks the rule: picks its word from the process-wide RNG instead of the seeded generator."""

    def start(self, rng):
        message = super().start(rng)
        self.secret = random.choice(word_list("wordle_words"))
        return message


class _GlobalRandomWordleEnv(GameEnvironment):
    name = "bad_wordle"
    description = "wordle with an unseeded secret"
    Game = _GlobalRandomWordle


class _GreedyHangman(Hangman):
    """Breaks the rule: pays 1 for every letter found, so an episode can earn more than 1."""

    def play(self, action):
        outcome = super().play(action)
        return Outcome(outcome.message, reward=1.0 if action.lower() in self.secret else 0.0,
                       terminated=outcome.terminated)


class _GreedyHangmanEnv(GameEnvironment):
    name = "greedy_hangman"
    description = "hangman paying per letter"
    Game = _GreedyHangman


def test_check_env_catches_a_game_seeded_outside_reset():
    """Its first observation hides the word, so gymnasium's checker passes; replaying the solution does not win."""
    with pytest.raises(EnvCheckError, match="bad_wordle: "):
        check_env(_GlobalRandomWordleEnv(), seeds=2)


def test_an_episode_reward_above_one_is_an_error_not_a_score():
    env = _GreedyHangmanEnv()
    actions, _ = ENVS["hangman"].play_expert(0, env.Options())  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="greedy_hangman: expected an episode reward in \\[0, 1\\]"):
        env.score(env.Task(seed=0), format_actions(actions))
    with pytest.raises(EnvCheckError):
        check_env(env, seeds=2)
