"""Every game of the games family: gymnasium's checker, seeding, the invalid-action rule, and scripted play."""

from __future__ import annotations

import pytest
from gymnasium.utils.env_checker import check_env

from rewardgym_games import FAMILY
from rewardgym_games.blackjack import basic_strategy_hits
from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import MAX_INVALID_IN_A_ROW

ENVS: dict[str, GameEnvironment] = FAMILY.instantiate()  # type: ignore[assignment]
DIFFICULTIES = ("easy", "medium", "hard")
SEEDS = range(12)
UNREADABLE = "?!"
"""No game reads this as an action."""


def play(env: GameEnvironment, seed: int, difficulty: str, actions: list[str]) -> list[tuple]:
    """Step through `actions` by hand: the (observation, reward, terminated, truncated, info) of reset and each step."""
    game = env.make()
    observation, info = game.reset(seed=seed, options={"difficulty": difficulty})
    steps = [(observation, 0.0, False, False, info)]
    for action in actions:
        steps.append(game.step(action))
        if steps[-1][2] or steps[-1][3]:
            break
    return steps


@pytest.mark.parametrize("name", sorted(ENVS))
def test_passes_gymnasium_env_checker(name):
    check_env(ENVS[name].make(), skip_render_check=True)


def test_the_family_has_the_games_the_issue_asks_for():
    assert {"wordle", "mastermind", "tic_tac_toe", "connect_four", "frozen_lake", "taxi", "blackjack",
            "cliff_walking"} <= set(ENVS)
    assert len(ENVS) >= 10


@pytest.mark.parametrize("name", sorted(ENVS))
def test_same_seed_same_game_and_seeds_differ(name):
    env = ENVS[name]
    games = []
    for seed in (0, 1, 2, 3):
        actions, _ = env.play_expert(seed, env.Options(difficulty="medium"))
        first = play(env, seed, "medium", actions)
        again = play(env, seed, "medium", actions)
        assert [step[:4] for step in first] == [step[:4] for step in again]
        games.append(tuple(step[0] for step in first))
    if name != "cliff_walking":  # gymnasium's cliff is one fixed grid: the seed has nothing to choose
        assert len(set(games)) > 1


@pytest.mark.parametrize("name", sorted(ENVS))
def test_an_invalid_action_is_explained_then_a_second_in_a_row_loses(name):
    env = ENVS[name]
    game = env.make()
    start, _ = game.reset(seed=7)
    observation, reward, terminated, truncated, info = game.step(UNREADABLE)
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["invalid_action"] and info["invalid_in_a_row"] == 1
    assert observation.startswith("Invalid action '?!'") and "Try again" in observation
    assert observation.endswith(game.board())  # the position did not change
    assert start.endswith(game.board())
    observation, reward, terminated, truncated, info = game.step(UNREADABLE)
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert info["invalid_in_a_row"] == MAX_INVALID_IN_A_ROW and "The game is lost" in observation
    with pytest.raises(RuntimeError, match="Expected reset"):
        game.step(UNREADABLE)


@pytest.mark.parametrize("name", sorted(ENVS))
def test_a_valid_action_between_two_invalid_ones_resets_the_count(name):
    env = ENVS[name]
    actions, _ = env.play_expert(3, env.Options())
    steps = play(env, 3, "medium", [UNREADABLE, actions[0], UNREADABLE])
    assert [step[4]["invalid_in_a_row"] for step in steps[1:]] == [1, 0, 1][:len(steps) - 1]


# (env, seed, difficulty, legal actions first, then an action the rules forbid there, what the explanation says)
ILLEGAL = [
    ("tic_tac_toe", 0, "medium", ["5"], "5", "square 5 is taken"),
    ("tic_tac_toe", 0, "medium", [], "10", "expected a square number from 1 to 9"),
    ("wordle", 0, "medium", [], "CRANES", "expected a guess of exactly 5 letters"),
    ("mastermind", 0, "medium", [], "1237", "expected 4 digits, each from 1 to 6"),
    ("hangman", 0, "medium", ["E"], "e", "E was already guessed"),
    ("taxi", 0, "medium", [], "dropoff", "no passenger to pick up or drop off here"),
    ("frozen_lake", 0, "medium", [], "jump", "expected a move"),
    ("blackjack", 0, "medium", [], "double", "expected hit or stick"),
    ("minesweeper", 0, "medium", [], "0 1", "expected a row from 1 to 8"),
    ("battleship", 0, "medium", ["1 1"], "1 1", "cell 1 1 was already shot"),
    ("battleship", 0, "medium", [], "4", "expected a row and a column"),
]


@pytest.mark.parametrize("name, seed, difficulty, before, illegal, reason", ILLEGAL,
                         ids=[f"{row[0]}-{row[4]}" for row in ILLEGAL])
def test_illegal_moves_follow_the_rule(name, seed, difficulty, before, illegal, reason):
    steps = play(ENVS[name], seed, difficulty, before + [illegal])
    assert not any(step[4]["invalid_action"] for step in steps[1:-1]), "the setup moves must be legal"
    observation, reward, terminated, _, info = steps[-1]
    assert info["invalid_action"] and not terminated and reward == 0.0
    assert reason in observation


def test_connect_four_refuses_a_full_column():
    """Drop into column 1 until it is full (the seed decides where O answers), then once more."""
    env = ENVS["connect_four"]
    for seed in range(50):
        game = env.make()
        game.reset(seed=seed, options={"difficulty": "easy"})
        while game.heights[0] < 6 and not game.over:
            game.step("1")
        if game.over:
            continue
        observation, reward, terminated, _, info = game.step("1")
        assert info["invalid_action"] and not terminated and reward == 0.0
        assert "column 1 is full" in observation
        return
    pytest.fail("no seed in 50 filled column 1 before the game ended")


def test_wordle_hard_mode_refuses_a_guess_that_ignores_a_hint():
    env = ENVS["wordle"]
    game = env.make()
    game.reset(seed=0, options={"difficulty": "hard"})
    game.step("CRANE")
    marks = game.history[0][1]
    assert marks != "....."  # seed 0's word shares a letter with CRANE, so some hint binds
    observation, _, terminated, _, info = game.step("FUZZY")
    assert info["invalid_action"] and "hard mode" in observation and not terminated


@pytest.mark.parametrize("name", ["wordle", "mastermind", "frozen_lake", "taxi", "cliff_walking", "battleship"])
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_scripted_optimal_play_wins_every_seed_of_the_puzzles(name, difficulty):
    """Puzzles without an opponent: the expert (consistent guesses, shortest safe path, the densest cell for
    battleship) wins every game."""
    env = ENVS[name]
    for seed in SEEDS:
        actions, reward = env.play_expert(seed, env.Options(difficulty=difficulty))
        assert reward == 1.0, (name, difficulty, seed, actions)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_hangman_expert_wins_nearly_always(difficulty):
    """The expert guesses from the shipped list; two words with the same letters so far can still cost a life."""
    env = ENVS["hangman"]
    rewards = [env.play_expert(seed, env.Options(difficulty=difficulty))[1] for seed in range(40)]
    assert sum(rewards) >= 38


@pytest.mark.parametrize("name", ["tic_tac_toe", "connect_four"])
def test_board_game_expert_beats_an_erring_opponent(name):
    """Minimax X never loses at tic-tac-toe, and wins whenever O's random moves let it; connect four's depth-4
    expert wins most games against the easy opponent."""
    env = ENVS[name]
    rewards = [env.play_expert(seed, env.Options(difficulty="easy"))[1] for seed in range(20)]
    assert rewards.count(1.0) >= 14
    if name == "tic_tac_toe":
        for difficulty in DIFFICULTIES:
            assert all(env.play_expert(seed, env.Options(difficulty=difficulty))[1] >= 0.5 for seed in SEEDS)


def test_blackjack_optimal_policy_beats_simple_ones():
    """Blackjack is a gamble: optimal means Sutton & Barto's policy, which maximises the expected reward. Over
    400 fixed deals it must beat always-stick and stick-on-17 (the dealer's rule)."""
    env = ENVS["blackjack"]

    def mean_reward(policy) -> float:
        total = 0.0
        for seed in range(400):
            game = env.make()
            game.reset(seed=seed, options={"difficulty": "easy"})
            while not game.over:
                player = game.inner.player
                game.step("hit" if policy(player, game.inner.dealer[0]) else "stick")
            total += game.total_reward
        return total / 400

    from gymnasium.envs.toy_text.blackjack import sum_hand, usable_ace

    optimal = mean_reward(lambda p, d: basic_strategy_hits(sum_hand(p), d, bool(usable_ace(p))))
    assert optimal > mean_reward(lambda p, d: False) + 0.02
    assert optimal > mean_reward(lambda p, d: sum_hand(p) < 17)
    assert 0.40 < optimal < 0.55


def test_blackjack_hands_pay_a_share_each():
    env = ENVS["blackjack"]
    for seed in range(30):
        game = env.make()
        game.reset(seed=seed, options={"difficulty": "hard"})
        rewards = []
        while not game.over:
            rewards.append(game.step(game.expert_action())[1])
        assert all(r in (0.0, 1 / 6, 1 / 3) for r in rewards)  # win 1/3, draw 1/6 per hand of three
        assert sum(r > 0 for r in rewards) <= 3 and abs(sum(rewards) - game.total_reward) < 1e-12


@pytest.mark.parametrize("name", sorted(ENVS))
def test_truncation_at_the_turn_limit_pays_nothing(name):
    """Alternate invalid and expert actions until the game ends: rewards stay in [0, 1] and steps <= max_turns."""
    env = ENVS[name]
    game = env.make()
    game.reset(seed=11, options={"difficulty": "hard"})
    steps = 0
    while not game.over:
        action = UNREADABLE if steps % 2 == 0 else game.expert_action()
        _, reward, terminated, truncated, info = game.step(action)
        steps += 1
        assert 0.0 <= reward <= 1.0
    assert steps <= game.max_turns()
    assert 0.0 <= game.total_reward <= 1.0
    if truncated:
        assert game.total_reward == 0.0 and steps == game.max_turns()
