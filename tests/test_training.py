"""Training end to end with a tiny budget: files, resume, the NaN guard, evaluate, bad input."""

import json
import math

import keras
import numpy as np
import pandas as pd
import pytest

from agents.agent import DDPGConfig
from quadcopter.cli import main
from quadcopter.training import (TEST_SEED, ActorTestFlights, TrainingError, TrainSettings, evaluate_actor,
                                 finish_run, greedy_policy, summarise_evaluation, train)

TINY = DDPGConfig(actor_units=(32, 32), critic_units=(32, 32), batch_size=32, warmup=64, buffer_size=5000)


def tiny_settings(**changes):
    # No test flights unless a test asks for them: a small budget is for training.
    values = dict(num_envs=8, env_steps=2_000, steps_per_round=2, updates_per_round=4, checkpoint_every=1.0,
                  test_every=0)
    values.update(changes)
    return TrainSettings(**values)


def test_train_writes_its_files_and_resumes(tmp_path):
    out = tmp_path / "run"
    agent, episodes = train(TINY, tiny_settings(), out=out, progress=False)
    assert len(episodes) > 10
    saved = pd.read_csv(out / "episodes.csv")
    assert list(saved["episode"]) == list(range(1, len(saved) + 1))
    assert {"episode_return", "length", "final_z", "success"} <= set(saved.columns)
    assert json.loads((out / "config.json").read_text())["actor_units"] == [32, 32]
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["counters"]["updates"] > 0

    # Resume: the run goes on from its checkpoint with the rest of a larger budget.
    settings = json.loads((out / "settings.json").read_text())
    settings["env_steps"] = 3_500
    (out / "settings.json").write_text(json.dumps(settings))
    resumed, more = train(out=out, resume=True, progress=False)
    assert len(more) > len(saved)
    assert list(more["episode"][: len(saved)]) == list(saved["episode"])
    assert json.loads((out / "checkpoints" / "state.json").read_text())["counters"]["updates"] > state["counters"]["updates"]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
def test_a_nan_loss_stops_training_and_keeps_the_last_checkpoint(tmp_path, monkeypatch, fused):
    """A NaN put into the critic's weights after 30 rounds makes the next losses NaN: training stops."""
    from quadcopter import training

    rollout_class = type(training.make_rollout(training.make_agent(TINY, tiny_settings(fused=fused)),
                                               tiny_settings(fused=fused)))
    calls = {"n": 0}
    original = rollout_class.round

    def poisoned(self, steps, updates):
        calls["n"] += 1
        if calls["n"] == 30:
            kernel = self.agent.critic_local.model.get_layer("q_value").kernel
            kernel.assign(np.full(kernel.shape, np.nan, np.float32))
        return original(self, steps, updates)

    monkeypatch.setattr(rollout_class, "round", poisoned)
    out = tmp_path / "nan"
    with pytest.raises(TrainingError, match="losses stopped being finite"):
        train(TINY, tiny_settings(env_steps=100_000, checkpoint_every=0.01, fused=fused), out=out, progress=False)
    assert calls["n"] == 30
    assert (out / "checkpoints" / "state.json").exists()
    assert len(pd.read_csv(out / "episodes.csv")) > 0


def test_bad_settings_raise_before_training():
    with pytest.raises(ValueError, match=r"TrainSettings.num_envs must be an integer in \[1, 4096\]"):
        train(TINY, TrainSettings(num_envs=0), progress=False)
    with pytest.raises(ValueError, match=r"DDPGConfig.tau must be"):
        train(DDPGConfig(tau=-1.0), progress=False)
    with pytest.raises(ValueError, match=r"TrainSettings.test_episodes must be an integer in \[1, 4096\]; got 0"):
        train(TINY, TrainSettings(test_episodes=0), progress=False)
    with pytest.raises(ValueError, match=r"TrainSettings.test_every must be an integer number of environment steps "
                                         r">= 0; got -1"):
        train(TINY, TrainSettings(test_every=-1), progress=False)
    with pytest.raises(ValueError, match=r"TrainSettings.seconds must be a finite number >= 0; got -5"):
        train(TINY, TrainSettings(seconds=-5), progress=False)
    with pytest.raises(ValueError, match=r"needs a budget: env_steps, seconds or episodes > 0"):
        train(TINY, TrainSettings(env_steps=0), progress=False)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
def test_the_same_seed_gives_the_same_run(fused):
    """A step budget makes training reproducible: same seed, same episodes, same actor."""
    settings = tiny_settings(env_steps=1_200, test_every=400, test_episodes=4, fused=fused)
    runs = [train(TINY, settings, progress=False) for _ in range(2)]
    (first, first_episodes), (second, second_episodes) = runs
    pd.testing.assert_frame_equal(first_episodes.drop(columns="seconds"), second_episodes.drop(columns="seconds"))
    pd.testing.assert_frame_equal(first_episodes.attrs["tests"].drop(columns="seconds"),
                                  second_episodes.attrs["tests"].drop(columns="seconds"))
    for a, b in zip(first.actor_local.network.weights, second.actor_local.network.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    other, _ = train(TINY.replace(seed=1), settings, progress=False)
    other_weights, first_weights = other.actor_local.network.weights, first.actor_local.network.weights
    assert not np.array_equal(other_weights[0].numpy(), first_weights[0].numpy())


def test_a_resumed_fused_run_is_the_run_without_the_stop(tmp_path):
    """Checkpoints at round boundaries hold every random state: stop, resume, and nothing differs."""
    settings = tiny_settings(env_steps=2_000)
    config = TINY.replace(target_noise=0.1)  # the update's own random draws are checkpointed too
    whole, whole_episodes = train(config, settings, out=tmp_path / "whole", progress=False)
    out = tmp_path / "stopped"
    train(config, tiny_settings(env_steps=1_000), out=out, progress=False)
    saved = json.loads((out / "settings.json").read_text())
    (out / "settings.json").write_text(json.dumps(dict(saved, env_steps=2_000)))
    resumed, resumed_episodes = train(out=out, resume=True, progress=False)
    columns = ["episode", "episode_return", "length", "final_z", "success", "env", "env_steps", "updates"]
    pd.testing.assert_frame_equal(resumed_episodes[columns], whole_episodes[columns])
    for a, b in zip(whole.actor_local.network.weights, resumed.actor_local.network.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _set_output_bias(agent, value):
    """Make the actor's normalised output ``value`` on every rotor, whatever the state."""
    layer = agent.actor_local.network.get_layer("actions")
    layer.kernel.assign(np.zeros(layer.kernel.shape, np.float32))
    layer.bias.assign(np.full(layer.bias.shape, np.arctanh(value), np.float32))


def _test_score(agent, episodes):
    summary = summarise_evaluation(evaluate_actor(greedy_policy(agent), episodes, seed=TEST_SEED))
    return summary["success_rate"], summary["mean_return"]


def test_test_flights_keep_the_best_actor():
    from quadcopter.training import make_agent, make_rollout

    settings = tiny_settings(test_episodes=6)
    agent = make_agent(TINY, settings)
    tests = ActorTestFlights(agent, settings, make_rollout(agent, settings))
    counters = dict(env_steps=0, seconds=0.0, updates=0)
    _set_output_bias(agent, -0.9)  # 45 rev/s: falls at once
    tests.run(counters, 0)
    _set_output_bias(agent, 0.0)  # 450 rev/s on every rotor: climbs level, lives long
    good = [w.numpy() for w in agent.actor_local.network.weights]
    tests.run(counters, 0)
    _set_output_bias(agent, -0.5)  # 225 rev/s: falls again
    tests.run(counters, 0)
    assert [t["best"] for t in tests.history] == [True, True, False]
    assert tests.history[1]["mean_return"] > 10 * tests.history[0]["mean_return"]
    tests.restore_best()
    for weight, kept in zip(agent.actor_local.network.weights, good):
        np.testing.assert_array_equal(weight.numpy(), kept)


def test_train_returns_the_actor_of_its_best_test(tmp_path):
    out = tmp_path / "tests"
    agent, episodes = train(TINY, tiny_settings(env_steps=3_000, test_every=500, test_episodes=8), out=out,
                            progress=False)
    tests = episodes.attrs["tests"]
    # One before training, every 500 steps (a round is 16 steps, so a test can come a little late), one at the end.
    assert len(tests) >= 6 and tests["env_steps"].iloc[-1] >= 3_000
    assert (np.diff(tests["env_steps"].iloc[:-1]) >= 500).all()
    pd.testing.assert_frame_equal(pd.read_csv(out / "tests.csv"), tests, check_dtype=False)
    best = tests.sort_values(["success_rate", "mean_return"]).iloc[-1]
    assert _test_score(agent, 8) == pytest.approx((best["success_rate"], best["mean_return"]))
    kept = list(zip(tests.loc[tests["best"], "success_rate"], tests.loc[tests["best"], "mean_return"]))
    assert kept == sorted(kept) and tests["best"].iloc[0]  # each kept test beat every earlier one


def test_evaluate_flies_the_pd_like_policy_to_success():
    from quadcopter import hover_rotor_speed

    def hold_ten_metres(states):  # a PD law on the state: z error (10 m units) and v_z (5 m/s units)
        accel = -4.0 * states[:, 2] * 10 - 4.0 * states[:, 5] * 5
        speed = hover_rotor_speed() * np.sqrt(np.clip((9.81 + accel) / 9.81, 0, None))
        return np.repeat(np.clip(speed, 0, 900)[:, None], 4, axis=1)

    results = evaluate_actor(hold_ten_metres, episodes=20)
    assert len(results) == 20 and results["success"].all()
    falling = evaluate_actor(lambda s: np.zeros((len(s), 4)), episodes=5)
    assert not falling["success"].any()


def test_cli_train_and_evaluate(tmp_path, capsys):
    out = tmp_path / "cli"
    main(["train", "--out", str(out), "--env-steps", "1500", "--num-envs", "4", "--no-progress", "--eval-episodes", "5",
          "--set", "actor_units=16,16", "--set", "critic_units=16,16", "--set", "warmup=64", "--set", "batch_size=16"])
    printed = capsys.readouterr().out
    assert "selected actor (actor.keras), over 5 takeoffs" in printed and "final actor (actor_final.keras)" in printed
    for name in ("episodes.csv", "config.json", "actor.keras", "actor_final.keras", "evaluation.json", "reward_curve.png", "flight.png",
                 "flight_path.png", "evaluation_flights.png"):
        assert (out / name).exists(), name
    flights = pd.read_csv(out / "evaluation_flights.csv")
    assert sorted(flights["flight"].unique()) == list(range(1, 11))
    import agents  # noqa: F401

    model = keras.models.load_model(out / "actor.keras")
    speeds = model(np.zeros((1, 12), np.float32)).numpy()
    assert speeds.shape == (1, 4) and 0 <= speeds.min() and speeds.max() <= 900
    main(["evaluate", str(out / "actor.keras"), "--episodes", "5"])
    assert "success rate" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "--set", "tau=-1", "--out", str(tmp_path / "bad")])
    assert not (tmp_path / "bad").exists()


def test_finish_run_saves_and_evaluates_both_actors(tmp_path):
    agent, episodes = train(TINY, tiny_settings(env_steps=1_500, test_every=500, test_episodes=4), out=None,
                            progress=False)
    assert len(episodes) > 0
    selected = [w.numpy() for w in agent.actor_local.network.weights]
    final = episodes.attrs["final_actor_weights"]
    assert any(not np.array_equal(a, b) for a, b in zip(selected, final))  # an earlier test was kept
    summaries = finish_run(agent, episodes, tmp_path, tiny_settings(), evaluation_episodes=5, flights_to_plot=2)
    assert set(summaries) == {"selected", "final"} and summaries["final"]["episodes"] == 5
    assert {"success_rate", "long_hold_success_rate", "median_final_z"} <= set(summaries["final"])
    assert json.loads((tmp_path / "evaluation.json").read_text()) == summaries
    import agents  # noqa: F401  (registers the actor's layers)

    states = np.random.default_rng(0).normal(size=(5, 12)).astype(np.float32)
    for name, weights in (("actor.keras", selected), ("actor_final.keras", final)):
        agent.set_actor_weights(weights)
        expected = agent.actor_local.model(states).numpy()
        np.testing.assert_allclose(keras.models.load_model(tmp_path / name)(states).numpy(), expected, rtol=1e-6)
    assert len(pd.read_csv(tmp_path / "episodes.csv")) == len(episodes)
    assert (tmp_path / "reward_curve.png").exists()
