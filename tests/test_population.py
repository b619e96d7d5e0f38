"""Population training (``train --seeds``): independence of the seeds, their folders, resume, Ctrl-C, a
failing seed, and bad input."""

import json
import os
import signal

import numpy as np
import pandas as pd
import pytest
from test_bad_input import one_line_exit_2

from agents.agent import DDPGConfig
from quadcopter import population
from quadcopter.runs import RunExistsError
from quadcopter.settings import TrainSettings, parse_seeds
from quadcopter.train_parts import TrainingInterrupted
from quadcopter.training import RunTraining, train

pytestmark = pytest.mark.slow  # left out of make test-quick: most tests here train for several seconds

TINY = DDPGConfig(actor_units=(32, 32), critic_units=(32, 32), batch_size=32, warmup=64, buffer_size=5000)
SETTINGS = TrainSettings(
    num_envs=8, env_steps=640, steps_per_round=2, updates_per_round=4, test_every=160, test_episodes=4
)
COLUMNS = ["episode", "episode_return", "length", "final_z", "success", "env", "env_steps", "updates"]


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """Seeds 1 and 3 trained side by side without a stop: (folder, results)."""
    out = tmp_path_factory.mktemp("population") / "whole"
    return out, population.train_population([1, 3], out, TINY, SETTINGS, progress=True)


def _weights(agent):
    return [w.numpy() for w in agent.actor_local.network.weights + agent.critic_local.model.weights]


def test_seeds_are_parsed_from_ranges_and_lists():
    assert parse_seeds("0-9") == list(range(10))
    assert parse_seeds("0,3,7") == [0, 3, 7]
    assert parse_seeds(" 4-5 , 8") == [4, 5, 8]
    for bad, message in [
        ("3-1", "'3-1' is not a seed or an increasing range"),
        ("-1", "'-1' is not a seed"),
        ("0-3,2", "names seed 2 twice"),
        ("a", "'a' is not a seed"),
        ("0-100", "names more than 100 seeds"),
        ("2147483648", r"in \[0, 2147483647\]"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_seeds(bad)


def test_a_seed_trains_in_a_population_as_it_trains_alone(whole, tmp_path):
    """Seed 3 beside seed 1 ends with the weights, episodes and tests of seed 3 trained alone."""
    out, results = whole
    assert [r.seed for r in results] == [1, 3] and all(r.error is None for r in results)
    alone, alone_episodes = train(TINY.replace(seed=3), SETTINGS, out=tmp_path / "alone", progress=False)
    beside = results[1]
    for a, b in zip(_weights(alone), _weights(beside.agent)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    pd.testing.assert_frame_equal(alone_episodes[COLUMNS], beside.episodes[COLUMNS])
    pd.testing.assert_frame_equal(
        alone_episodes.attrs["tests"].drop(columns="seconds"), beside.episodes.attrs["tests"].drop(columns="seconds")
    )
    # The two seeds differ: each is its own run.
    assert not np.array_equal(_weights(results[0].agent)[0], _weights(beside.agent)[0])


def test_each_seed_has_a_run_folder_of_its_own(whole):
    out, results = whole
    assert json.loads((out / "population.json").read_text()) == {"seeds": [1, 3]}
    for result in results:
        assert result.folder == out / f"seed-{result.seed}"
        assert json.loads((result.folder / "config.json").read_text())["seed"] == result.seed
        episodes = pd.read_csv(result.folder / "episodes.csv")
        assert len(episodes) == len(result.episodes) > 0
        assert episodes["env_steps"].max() <= SETTINGS.env_steps
        assert len(pd.read_csv(result.folder / "tests.csv")) == SETTINGS.env_steps // SETTINGS.test_every + 1
        assert (result.folder / "checkpoints" / "checkpoint").exists()


def test_an_interrupted_population_resumes_to_the_uninterrupted_one(whole, tmp_path, monkeypatch):
    """Ctrl-C (a real SIGINT) during a round: every seed stops at its round's end with a checkpoint, and the
    resumed population ends with the uninterrupted one's episodes and weights, seed by seed."""
    calls = {"n": 0}
    original = RunTraining.one_round

    def interrupted(self):
        calls["n"] += 1
        if calls["n"] == 15:
            os.kill(os.getpid(), signal.SIGINT)  # arrives while rounds are running
        return original(self)

    monkeypatch.setattr(RunTraining, "one_round", interrupted)
    out = tmp_path / "stopped"
    with pytest.raises(TrainingInterrupted) as stop:
        population.train_population([1, 3], out, TINY, SETTINGS, progress=False)
    assert 0 < stop.value.env_steps < SETTINGS.env_steps
    monkeypatch.setattr(RunTraining, "one_round", original)
    resumed = population.train_population(None, out, resume=True, progress=False)
    for before, after in zip(whole[1], resumed):
        assert before.seed == after.seed
        pd.testing.assert_frame_equal(before.episodes[COLUMNS], after.episodes[COLUMNS])
        for a, b in zip(_weights(before.agent), _weights(after.agent)):
            np.testing.assert_array_equal(a, b)


def test_a_seed_whose_losses_stop_being_finite_stops_and_the_others_go_on(tmp_path, monkeypatch):
    original = RunTraining.one_round

    def poisoned(self):
        if self.agent.config.seed == 2 and self.record.counters["updates"] >= 8:
            kernel = self.agent.critic_local.model.get_layer("q_value").kernel
            kernel.assign(np.full(kernel.shape, np.nan, np.float32))
        return original(self)

    monkeypatch.setattr(RunTraining, "one_round", poisoned)
    settings = TrainSettings(
        num_envs=8,
        env_steps=320,
        steps_per_round=2,
        updates_per_round=4,
        test_every=0,
        fused=False,
        checkpoint_every=0.01,
    )
    results = population.train_population([0, 2], tmp_path / "pop", TINY, settings, progress=False)
    assert results[0].error is None and results[0].episodes["env_steps"].max() <= 320
    assert "losses stopped being finite" in str(results[1].error) and results[1].agent is None
    assert (tmp_path / "pop" / "seed-2" / "checkpoints").exists()


def test_a_population_never_replaces_runs_by_accident(whole, tmp_path, capsys):
    """A folder that holds a population or a run is refused before anything changes, in Python and on the
    command line."""
    out, _ = whole

    def listing():  # every file of the population with its time of change (the folders' lock files aside)
        return sorted((str(p), p.stat().st_mtime_ns) for p in out.rglob("*") if p.name != ".lock")

    before = listing()
    with pytest.raises(RunExistsError, match="holds a population already"):
        population.train_population([1, 3], out, TINY, SETTINGS, progress=False)
    other = tmp_path / "other"
    (other / "seed-3").mkdir(parents=True)
    (other / "seed-3" / "config.json").write_text("{}")
    with pytest.raises(RunExistsError, match="seed-3 holds a training run already"):
        population.train_population([3, 4], other, TINY, SETTINGS, progress=False)
    assert sorted(p.name for p in other.iterdir()) == ["seed-3"]
    with pytest.raises(RunExistsError, match="holds a single run"):
        population.train_population([5], out / "seed-1", TINY, SETTINGS, progress=False)
    with pytest.raises(ValueError, match=r"holds the population of seeds \[1, 3\]"):
        population.train_population([1, 2], out, resume=True, progress=False)
    one_line_exit_2(capsys, ["train", "--out", str(out), "--resume", "--env-steps", "640"], "used up already")
    one_line_exit_2(capsys, ["train", "--out", str(out)], "holds a population of runs")
    one_line_exit_2(capsys, ["train", "--seeds", "1-0"], "'1-0' is not a seed or an increasing range")
    one_line_exit_2(capsys, ["train", "--seeds", "1,3", "--seed", "1", "--out", str(tmp_path / "x")], "give one")
    assert listing() == before
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "environment, seeds, threads",
    [({}, None, "1"), ({}, [0, 1, 2], str(min(3, os.cpu_count() or 1))), ({"TF_NUM_INTRAOP_THREADS": "3"}, None, "3")],
    ids=["single run", "population", "the user's own"],
)
def test_train_sets_tensorflows_threads_per_operation_before_it_loads(environment, seeds, threads):
    """One thread per operation for a single run, one per seed at once for a population (up to one per core),
    unless the environment says otherwise; in a fresh process, as the command line does it."""
    import subprocess
    import sys

    code = (
        "import argparse, os, sys\n"
        "from quadcopter.cli import _set_training_threads\n"
        f"_set_training_threads(argparse.Namespace(seeds={seeds!r}, out=None))\n"
        "assert 'tensorflow' not in sys.modules\n"
        "print(os.environ['TF_NUM_INTRAOP_THREADS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_NUM_INTRAOP_THREADS"} | environment
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == threads
