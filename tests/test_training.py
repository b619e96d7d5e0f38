"""Training end to end with a tiny budget: files, resume, the NaN guard, evaluate, bad input."""

import dataclasses
import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from agents.agent import DDPGConfig
from quadcopter.cli import main
from quadcopter.task_specs import FlightTask, NumpyDraw
from quadcopter.tasks import OBSERVATION_VERSION, POSITION_SCALE, REWARD_VERSION, VELOCITY_SCALE
from quadcopter.training import (
    TEST_SEED,
    ActorTestFlights,
    TrainingError,
    TrainSettings,
    evaluate_actor,
    finish_run,
    summarise_evaluation,
    train,
)

pytestmark = pytest.mark.slow  # left out of make test-quick: each test trains for several seconds

TINY = DDPGConfig(actor_units=(32, 32), critic_units=(32, 32), batch_size=32, warmup=64, buffer_size=5000)


def tiny_settings(**changes):
    # No test flights unless a test asks for them: a small budget is for training.
    values = dict(
        num_envs=8, env_steps=2_000, steps_per_round=2, updates_per_round=4, checkpoint_every=1.0, test_every=0
    )
    values.update(changes)
    return TrainSettings(**values)


def _saved_counters(out):
    """The counters of the newest checkpoint in a run folder, as train restores them."""
    import tensorflow as tf

    from quadcopter.training import Run

    state = tf.Variable("", dtype=tf.string)
    tf.train.Checkpoint(state=state).read(tf.train.latest_checkpoint(Run(out).checkpoints)).expect_partial()
    return json.loads(state.numpy().decode())["counters"]


def test_train_writes_its_files_and_resumes(tmp_path):
    out = tmp_path / "run"
    agent, episodes = train(TINY, tiny_settings(), out=out, progress=False)
    assert len(episodes) > 10
    saved = pd.read_csv(out / "episodes.csv")
    assert list(saved["episode"]) == list(range(1, len(saved) + 1))
    assert {"episode_return", "length", "final_z", "success"} <= set(saved.columns)
    assert json.loads((out / "config.json").read_text())["actor_units"] == [32, 32]
    counters = _saved_counters(out)
    assert counters["updates"] > 0 and counters["env_steps"] == 2_000

    # Resume with a larger budget: the run goes on from its checkpoint.
    resumed, more = train(out=out, resume=True, progress=False, budget=dict(env_steps=3_500))
    assert len(more) > len(saved)
    assert list(more["episode"][: len(saved)]) == list(saved["episode"])
    assert _saved_counters(out)["updates"] > counters["updates"]
    assert json.loads((out / "settings.json").read_text())["env_steps"] == 3_500


def test_a_run_folder_is_never_replaced_by_accident(tmp_path):
    from quadcopter.training import RunExistsError, next_run_folder

    out = tmp_path / "runs" / "takeoff"
    train(TINY, tiny_settings(env_steps=200), out=out, progress=False)
    before = (out / "episodes.csv").read_bytes()
    with pytest.raises(
        RunExistsError,
        match=r"holds a training run already: resume it \(--resume\), replace it "
        r"\(--overwrite\)",
    ):
        train(TINY, tiny_settings(env_steps=200), out=out, progress=False)
    assert (out / "episodes.csv").read_bytes() == before
    assert next_run_folder(tmp_path / "runs") == tmp_path / "runs" / "takeoff-2"
    (out / "notes.txt").write_text("mine")
    train(TINY.replace(seed=1), tiny_settings(env_steps=200), out=out, progress=False, overwrite=True)
    assert (out / "episodes.csv").read_bytes() != before
    assert (out / "notes.txt").read_text() == "mine"  # overwrite removes the run's files only
    with pytest.raises(ValueError, match="is a file"):
        train(TINY, tiny_settings(), out=out / "notes.txt", progress=False)


def test_resume_refuses_what_it_cannot_do(tmp_path):
    with pytest.raises(ValueError, match="resume needs the folder of an earlier run"):
        train(out=tmp_path / "nothing", resume=True, progress=False)
    out = tmp_path / "run"
    train(TINY, tiny_settings(env_steps=200), out=out, progress=False)
    with pytest.raises(ValueError, match="its own config and settings"):
        train(TINY, out=out, resume=True, progress=False)
    import shutil

    shutil.rmtree(out / "checkpoints")
    with pytest.raises(ValueError, match="nothing to resume: .* holds no checkpoint"):
        train(out=out, resume=True, progress=False)
    (out / "config.json").write_text("{}")
    with pytest.raises(ValueError, match=r"config.json is unreadable or incomplete"):
        train(out=out, resume=True, progress=False)


def test_a_run_of_another_observation_is_neither_resumed_nor_evaluated(tmp_path, capsys):
    out = tmp_path / "run"
    agent, _ = train(TINY, tiny_settings(env_steps=200), out=out, progress=False)
    agent.actor_local.network.save(out / "actor.keras")
    written = json.loads((out / "settings.json").read_text())
    assert written["observation_version"] == OBSERVATION_VERSION == 2
    # As a run trained before the observation had a version wrote it (12 values).
    del written["observation_version"]
    (out / "settings.json").write_text(json.dumps(written))
    before = {path.name: path.stat().st_mtime_ns for path in out.rglob("*")}
    with pytest.raises(ValueError, match="observation version 1, and this code makes version 2"):
        train(out=out, resume=True, progress=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(out), "--episodes", "2"])
    assert exit_info.value.code == 2
    assert "observation version 1" in capsys.readouterr().err
    assert {path.name: path.stat().st_mtime_ns for path in out.rglob("*")} == before  # nothing touched


def test_a_run_of_another_reward_is_not_resumed_but_its_actor_flies(tmp_path, capsys):
    out = tmp_path / "run"
    agent, _ = train(TINY, tiny_settings(env_steps=200), out=out, progress=False)
    agent.actor_local.network.save(out / "actor.keras")
    written = json.loads((out / "settings.json").read_text())
    assert written["reward_version"] == REWARD_VERSION == 3
    # As a run trained before the hover bonus wrote it: no reward version, no late learning rate.
    for key in ("reward_version", "late_actor_lr_from", "late_actor_lr_factor"):
        del written[key]
    (out / "settings.json").write_text(json.dumps(written))
    before = {path.name: path.stat().st_mtime_ns for path in out.rglob("*")}
    with pytest.raises(ValueError, match="reward version 1, and this code pays version 3"):
        train(out=out, resume=True, progress=False)
    assert {path.name: path.stat().st_mtime_ns for path in out.rglob("*")} == before  # nothing touched
    # As a run trained with the hover bonus but before the yaw term wrote it.
    (out / "settings.json").write_text(json.dumps({**written, "reward_version": 2}))
    before = {path.name: path.stat().st_mtime_ns for path in out.rglob("*")}
    with pytest.raises(ValueError, match="reward version 2, and this code pays version 3"):
        train(out=out, resume=True, progress=False)
    assert {path.name: path.stat().st_mtime_ns for path in out.rglob("*")} == before
    assert main(["evaluate", str(out), "--episodes", "2"]) in (None, 0)  # the observation is the same
    assert "success" in capsys.readouterr().out


LATE_STEP = tiny_settings(env_steps=2_000, late_actor_lr_from=800, late_actor_lr_factor=0.1)


@pytest.fixture(scope="module")
def late_step_run():
    """The whole run with the late actor step, trained once for both stops below."""
    whole, _ = train(TINY, LATE_STEP, progress=False)
    return whole


@pytest.mark.parametrize("stop_at", [400, 1_200])
def test_the_actor_learns_slower_late_in_a_run_and_resumes_so(tmp_path, late_step_run, stop_at):
    """From late_actor_lr_from environment steps on, the actor's learning rate is late_actor_lr_factor
    times DDPGConfig.actor_lr; a run stopped before or after that point and resumed is the whole run."""
    settings, whole = LATE_STEP, late_step_run
    assert float(whole.actor_local.optimizer.learning_rate.numpy()) == pytest.approx(TINY.actor_lr * 0.1)
    out = tmp_path / "stopped"
    train(TINY, dataclasses.replace(settings, env_steps=stop_at), out=out, progress=False)
    resumed, _ = train(out=out, resume=True, progress=False, budget=dict(env_steps=2_000))
    for a, b in zip(whole.actor_local.network.weights, resumed.actor_local.network.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    if stop_at == 400:  # the step changes the run: the same run without it ends elsewhere
        steady, _ = train(TINY, dataclasses.replace(settings, late_actor_lr_factor=1.0), progress=False)
        assert float(steady.actor_local.optimizer.learning_rate.numpy()) == pytest.approx(TINY.actor_lr)
        assert not np.array_equal(
            steady.actor_local.network.weights[0].numpy(), whole.actor_local.network.weights[0].numpy()
        )


def test_resume_falls_back_to_the_older_checkpoint_when_the_newest_is_damaged(tmp_path, capsys):
    out = tmp_path / "run"
    train(TINY, tiny_settings(env_steps=1_000, checkpoint_every=1e-6), out=out, progress=False)
    import tensorflow as tf

    from quadcopter.training import Run

    newest = tf.train.latest_checkpoint(Run(out).checkpoints)
    data = next(Run(out).checkpoints.glob(newest.split("/")[-1] + ".data-*"))
    data.write_bytes(data.read_bytes()[:100])  # cut short, as by a full disk
    resumed, episodes = train(out=out, resume=True, progress=False, budget=dict(env_steps=1_200))
    assert "is unreadable" in capsys.readouterr().out
    assert _saved_counters(out)["env_steps"] == 1_200


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
def test_a_nan_loss_stops_training_and_keeps_the_last_checkpoint(tmp_path, monkeypatch, fused):
    """A NaN put into the critic's weights after 30 rounds makes the next losses NaN: training stops."""
    from quadcopter import training

    rollout_class = type(
        training.make_rollout(training.make_agent(TINY, tiny_settings(fused=fused)), tiny_settings(fused=fused))
    )
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
    assert (out / "checkpoints" / "checkpoint").exists()
    assert len(pd.read_csv(out / "episodes.csv")) > 0


def test_bad_settings_raise_before_training():
    with pytest.raises(ValueError, match=r"TrainSettings.num_envs must be an integer in \[1, 4,096\]"):
        train(TINY, TrainSettings(num_envs=0), progress=False)
    with pytest.raises(ValueError, match=r"DDPGConfig.tau must be"):
        train(DDPGConfig(tau=-1.0), progress=False)
    with pytest.raises(ValueError, match=r"TrainSettings.test_episodes must be an integer in \[1, 4,096\]; got 0"):
        train(TINY, TrainSettings(test_episodes=0), progress=False)
    with pytest.raises(
        ValueError,
        match=r"TrainSettings.test_every must be an integer number of environment steps "
        r"in \[0, 100,000,000\]; got -1",
    ):
        train(TINY, TrainSettings(test_every=-1), progress=False)
    with pytest.raises(
        ValueError, match=r"TrainSettings.seconds must be a number of seconds in \[0, 604,800\]; got -5"
    ):
        train(TINY, TrainSettings(seconds=-5), progress=False)
    with pytest.raises(ValueError, match=r"needs a budget: env_steps, seconds or episodes > 0"):
        train(TINY, TrainSettings(env_steps=0), progress=False)
    with pytest.raises(ValueError, match=r"TrainSettings.late_actor_lr_factor must be a number in \(0, 1\]; got 0"):
        train(TINY, TrainSettings(late_actor_lr_factor=0), progress=False)
    with pytest.raises(
        ValueError, match=r"TrainSettings.late_actor_lr_from must be an integer .* in \[0, 100,000,000\]; got -1"
    ):
        train(TINY, TrainSettings(late_actor_lr_from=-1), progress=False)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
def test_the_same_seed_gives_the_same_run(fused):
    """A step budget makes training reproducible: same seed, same episodes, same actor."""
    settings = tiny_settings(env_steps=1_200, test_every=400, test_episodes=4, fused=fused)
    runs = [train(TINY, settings, progress=False) for _ in range(2)]
    (first, first_episodes), (second, second_episodes) = runs
    pd.testing.assert_frame_equal(first_episodes.drop(columns="seconds"), second_episodes.drop(columns="seconds"))
    pd.testing.assert_frame_equal(
        first_episodes.attrs["tests"].drop(columns="seconds"), second_episodes.attrs["tests"].drop(columns="seconds")
    )
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
    resumed, resumed_episodes = train(out=out, resume=True, progress=False, budget=dict(env_steps=2_000))
    columns = ["episode", "episode_return", "length", "final_z", "success", "env", "env_steps", "updates"]
    pd.testing.assert_frame_equal(resumed_episodes[columns], whole_episodes[columns])
    for a, b in zip(whole.actor_local.network.weights, resumed.actor_local.network.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_an_interrupted_run_resumes_to_the_uninterrupted_one(tmp_path, monkeypatch):
    """Ctrl-C (a real SIGINT) in the middle of a round: the run stops at the round's end with a
    checkpoint, and the resumed run ends with the uninterrupted run's episodes, tests and actor."""
    import os
    import signal

    from quadcopter import fused
    from quadcopter.training import TrainingInterrupted

    settings = tiny_settings(env_steps=1_600, test_every=320, test_episodes=4, checkpoint_every=1000.0)
    whole, whole_episodes = train(TINY, settings, out=tmp_path / "whole", progress=False)

    calls = {"n": 0}
    original = fused.FusedTakeoff.round

    def interrupted(self, steps, updates):
        calls["n"] += 1
        if calls["n"] == 20:
            os.kill(os.getpid(), signal.SIGINT)  # arrives while the round is running
        return original(self, steps, updates)

    monkeypatch.setattr(fused.FusedTakeoff, "round", interrupted)
    out = tmp_path / "stopped"
    with pytest.raises(TrainingInterrupted) as stop:
        train(TINY, settings, out=out, progress=False)
    assert stop.value.env_steps == 20 * 2 * 8  # 20 rounds of 2 steps of 8 takeoffs: the round was finished
    monkeypatch.setattr(fused.FusedTakeoff, "round", original)
    resumed, resumed_episodes = train(out=out, resume=True, progress=False)
    pd.testing.assert_frame_equal(resumed_episodes.drop(columns="seconds"), whole_episodes.drop(columns="seconds"))
    pd.testing.assert_frame_equal(
        resumed_episodes.attrs["tests"].drop(columns="seconds"), whole_episodes.attrs["tests"].drop(columns="seconds")
    )
    for a, b in zip(whole.actor_local.network.weights, resumed.actor_local.network.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for name in ("episodes.csv", "tests.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(out / name).drop(columns="seconds"),
            pd.read_csv(tmp_path / "whole" / name).drop(columns="seconds"),
        )


def _set_output_bias(agent, value):
    """Make the actor's normalised output ``value`` on every rotor, whatever the state."""
    layer = agent.actor_local.network.get_layer("actions")
    layer.kernel.assign(np.zeros(layer.kernel.shape, np.float32))
    layer.bias.assign(np.full(layer.bias.shape, np.arctanh(value), np.float32))


def _test_score(agent, settings):
    """(success rate, mean return) of the agent's actor in the test flights, flown as ``train`` flies
    them (the same starts and the same compiled flights, so the same numbers to the bit)."""
    from quadcopter.training import make_rollout

    starts = FlightTask().test_starts(NumpyDraw(np.random.default_rng(TEST_SEED)), settings.test_episodes)
    summary = summarise_evaluation(make_rollout(agent, settings).fly(*starts))
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
    settings = tiny_settings(env_steps=3_000, test_every=500, test_episodes=8)
    agent, episodes = train(TINY, settings, out=out, progress=False)
    tests = episodes.attrs["tests"]
    # One before training, every 500 steps (a round is 16 steps, so a test can come a little late), one at the end.
    assert len(tests) >= 6 and tests["env_steps"].iloc[-1] >= 3_000
    assert (np.diff(tests["env_steps"].iloc[:-1]) >= 500).all()
    pd.testing.assert_frame_equal(pd.read_csv(out / "tests.csv"), tests, check_dtype=False)
    best = tests.sort_values(["success_rate", "mean_return"]).iloc[-1]
    assert _test_score(agent, settings) == (best["success_rate"], best["mean_return"])
    kept = list(zip(tests.loc[tests["best"], "success_rate"], tests.loc[tests["best"], "mean_return"]))
    assert kept == sorted(kept) and tests["best"].iloc[0]  # each kept test beat every earlier one


def hold_ten_metres(states):
    """The PD altitude law (kp = kd = 4) on the observation: z error in POSITION_SCALE units, v_z in VELOCITY_SCALE."""
    from quadcopter import hover_rotor_speed

    accel = -4.0 * states[:, 2] * POSITION_SCALE - 4.0 * states[:, 5] * VELOCITY_SCALE
    speed = hover_rotor_speed() * np.sqrt(np.clip((9.81 + accel) / 9.81, 0, None))
    return np.repeat(np.clip(speed, 0, 900)[:, None], 4, axis=1)


def test_evaluate_flies_the_pd_like_policy_to_success():
    results = evaluate_actor(hold_ten_metres, episodes=20)
    assert len(results) == 20 and results["success"].all()
    falling = evaluate_actor(lambda s: np.zeros((len(s), 4)), episodes=5)
    assert not falling["success"].any()


@pytest.mark.parametrize("dynamics", ["udacity", "rigid_body"])
def test_hover_offset_measures_where_a_policy_settles(dynamics):
    from quadcopter.evaluation import hover_offset

    # The PD law settles on the target: the standard, within 2 cm, after 60 s.
    assert hover_offset(hold_ten_metres, count=2, dynamics=dynamics) < 0.02

    def off_by_half_a_metre(states):  # the same law aimed 0.5 m higher
        shifted = states.copy()
        shifted[:, 2] -= 0.5 / POSITION_SCALE
        return hold_ten_metres(shifted)

    assert hover_offset(off_by_half_a_metre, count=2, dynamics=dynamics) == pytest.approx(0.5, abs=0.02)
    assert hover_offset(lambda s: np.zeros((len(s), 4)), count=2, dynamics=dynamics) == float("inf")


def test_cli_train_and_evaluate(tmp_path, capsys):
    out = tmp_path / "cli"
    main(
        [
            "train",
            "--out",
            str(out),
            "--env-steps",
            "1500",
            "--num-envs",
            "4",
            "--no-progress",
            "--eval-episodes",
            "5",
            "--set",
            "actor_units=16,16",
            "--set",
            "critic_units=16,16",
            "--set",
            "warmup=64",
            "--set",
            "batch_size=16",
        ]
    )
    printed = capsys.readouterr().out
    assert (
        "selected actor (actor.keras), over 5 takeoff episodes" in printed
        and "final actor (actor_final.keras)" in printed
    )
    for name in (
        "episodes.csv",
        "config.json",
        "actor.keras",
        "actor_final.keras",
        "evaluation.json",
        "reward_curve.png",
        "flight.png",
        "flight_path.png",
        "evaluation_flights.png",
    ):
        assert (out / name).exists(), name
    flights = pd.read_csv(out / "evaluation_flights.csv")
    assert sorted(flights["flight"].unique()) == list(range(1, 11))
    import agents.actor  # noqa: F401  (registers the actor's output layer, for loading it)

    model = keras.models.load_model(out / "actor.keras")
    speeds = model(np.zeros((1, 15), np.float32)).numpy()
    assert speeds.shape == (1, 4) and 0 <= speeds.min() and speeds.max() <= 900
    device = "GPU (" if tf.config.list_physical_devices("GPU") else "CPU ("
    assert printed.splitlines()[1].startswith(f"device: {device}")  # where TensorFlow computes, said at the start
    closing = printed.strip().splitlines()[-1]
    assert closing.startswith(f"wrote {out}/: ") and all(
        path.name in closing for path in out.iterdir()
    )  # the closing line lists everything written
    main(["evaluate", str(out), "--episodes", "5"])  # a run folder: its actor.keras
    assert "success rate" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "--set", "tau=-1", "--out", str(tmp_path / "bad")])
    assert not (tmp_path / "bad").exists()
    # A second train into the same folder is refused and changes nothing; --resume with a setting too.
    before = (out / "episodes.csv").read_bytes()
    for argv, message in (
        (["train", "--out", str(out), "--env-steps", "100"], "holds a training run already"),
        (["train", "--out", str(out), "--resume", "--seed", "3"], "--seed would change them"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert (out / "episodes.csv").read_bytes() == before


def test_cli_ctrl_c_says_what_was_saved_and_how_to_continue(tmp_path, monkeypatch, capsys):
    from quadcopter import training
    from quadcopter.training import TrainingInterrupted

    def interrupted(*args, **kwargs):
        raise TrainingInterrupted(tmp_path / "run", 12_345)

    monkeypatch.setattr(training, "train", interrupted)
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--out", str(tmp_path / "run"), "--no-progress"])
    assert exit_.value.code == 130
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1
    assert "after 12,345 environment steps" in said
    assert f"python -m quadcopter train --out {tmp_path / 'run'} --resume" in said


def test_finish_run_saves_and_evaluates_both_actors(tmp_path):
    agent, episodes = train(
        TINY, tiny_settings(env_steps=1_500, test_every=500, test_episodes=4), out=None, progress=False
    )
    assert len(episodes) > 0
    selected = [w.numpy() for w in agent.actor_local.network.weights]
    final = episodes.attrs["final_actor_weights"]
    assert any(not np.array_equal(a, b) for a, b in zip(selected, final))  # an earlier test was kept
    summaries = finish_run(agent, episodes, tmp_path, tiny_settings(), evaluation_episodes=5, flights_to_plot=2)
    assert set(summaries) == {"selected", "final"} and summaries["final"]["episodes"] == 5
    assert {"success_rate", "long_hold_success_rate", "median_final_z"} <= set(summaries["final"])
    assert json.loads((tmp_path / "evaluation.json").read_text()) == summaries
    import agents.actor  # noqa: F401  (registers the actor's output layer, for loading it)

    states = np.random.default_rng(0).normal(size=(5, 15)).astype(np.float32)
    for name, weights in (("actor.keras", selected), ("actor_final.keras", final)):
        agent.set_actor_weights(weights)
        expected = agent.actor_local.model(states).numpy()
        np.testing.assert_allclose(keras.models.load_model(tmp_path / name)(states).numpy(), expected, rtol=1e-6)
    assert len(pd.read_csv(tmp_path / "episodes.csv")) == len(episodes)
    assert (tmp_path / "reward_curve.png").exists()


def test_train_writes_tensorboard_scalars(tmp_path):
    import tensorflow as tf

    out = tmp_path / "run"
    settings = tiny_settings(env_steps=1_600, test_every=400, test_episodes=4, late_actor_lr_from=800)
    train(TINY, dataclasses.replace(settings, steps_per_round=1), out=out, progress=False)
    events = list((out / "logs").glob("events.out.tfevents.*"))
    assert events
    tags, values = {}, {}
    for event in tf.compat.v1.train.summary_iterator(str(events[0])):
        for value in event.summary.value:
            tags.setdefault(value.tag, []).append(event.step)
            values.setdefault(value.tag, []).append(float(tf.make_ndarray(value.tensor)))
    for tag in (
        "loss/critic",
        "loss/actor",
        "train/episode_return",
        "train/success_rate",
        "test/success_rate",
        "test/mean_return",
        "test/mean_q_at_start",
        "speed/env_steps_per_s",
        "train/actor_learning_rate",
    ):
        assert tag in tags, sorted(tags)
    # The late step shows: the actor's learning rate before and after 800 environment steps.
    rates = dict(zip(tags["train/actor_learning_rate"], values["train/actor_learning_rate"]))
    early = [rate for step, rate in rates.items() if step < 800]
    late = [rate for step, rate in rates.items() if step > 800]
    assert early and early == pytest.approx([TINY.actor_lr] * len(early))
    assert late and late == pytest.approx([TINY.actor_lr * 0.1] * len(late))
    tests = pd.read_csv(out / "tests.csv")
    assert tags["test/success_rate"] == list(tests["env_steps"])  # one point per test, at its env steps


def test_sigterm_like_ctrl_c_only_asks_the_loop_to_stop_at_the_round_boundary():
    import os
    import signal

    from quadcopter.train_parts import StopAtRoundBoundary

    before = signal.getsignal(signal.SIGTERM)
    with StopAtRoundBoundary() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested  # the process is still here: the loop decides when to stop
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.parametrize("before_tanh", [True, False])
def test_the_fused_path_adds_the_noise_as_the_agent_does(before_tanh, monkeypatch):
    import tensorflow as tf

    from quadcopter import training

    settings = tiny_settings(fused=True)
    agent = training.make_agent(TINY.replace(noise_before_tanh=before_tanh), settings)
    rollout = training.make_rollout(agent, settings)
    rng = np.random.default_rng(3)
    actions = np.clip(rng.uniform(-1.2, 1.2, (settings.num_envs, agent.action_size)), -1, 1).astype(np.float32)
    draw = rng.normal(0, 0.3, actions.shape).astype(np.float32)
    monkeypatch.setattr(rollout, "_noise", lambda: tf.constant(draw))
    fused = rollout._add_noise(tf.constant(actions)).numpy()
    np.testing.assert_allclose(fused, agent.add_noise(actions, draw), atol=1e-5)
