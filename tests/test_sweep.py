"""python -m quadcopter sweep: the CONFIG file is checked before anything runs, the command says how to install
Ray Tune when it is missing, and a tiny sweep on Ray Tune writes its run folders, table and plot."""

import importlib.util

import pandas as pd
import pytest

from quadcopter import cli_learning
from quadcopter.cli import main
from quadcopter.sweep import read_config, trial_name, trial_settings

TINY = """
seeds = [0, 1]
metric = "final_success"

[settings]
env_steps = 320
test_every = 0
num_envs = 4
runtime = 1.0

[vary]
tau = [0.001, 0.005]
"""


def test_a_config_is_read_with_its_fixed_and_varied_settings(tmp_path):
    path = tmp_path / "tau.toml"
    path.write_text(TINY + "\n[sample]\nactor_lr = { low = 1e-5, high = 1e-3, log = true }\n")
    config = read_config(path)
    assert config.varied == ["tau", "actor_lr"] and config.seeds == [0, 1]
    agent_config, settings = trial_settings(config, {"tau": 0.005, "actor_lr": 3e-4, "seed": 1})
    assert (agent_config.tau, agent_config.actor_lr, agent_config.seed) == (0.005, 3e-4, 1)
    assert (settings.env_steps, settings.num_envs, settings.runtime) == (320, 4, 1.0)
    assert trial_name({"tau": 0.005, "actor_units": [64, 64], "seed": 1}) == "tau=0.005,actor_units=64-64,seed=1"


@pytest.mark.parametrize(
    "text, message",
    [
        ("seeds = [0]\nspeed = 3\n[vary]\ntau = [0.001]", r"unknown keys \['speed'\]"),
        ("seeds = [0]\n[vary]\nwarp = [1, 2]", r"\[vary\] names no setting \['warp'\]"),
        ("seeds = [0]\nmetric = 'fun'\n[vary]\ntau = [0.001]", "metric must be one of"),
        ("seeds = [-1]\n[vary]\ntau = [0.001]", "seeds must be a list of integers >= 0"),
        ("seeds = [0]\n[vary]\ntau = [0.001, 7.0]", r"tau must be .*; got 7.0"),
        ("seeds = [0]\n[sample]\nactor_lr = { low = 0.0, high = 1e-3, log = true }", "needs low < high"),
        ("seeds = [0]\n[settings]\ntau = 0.001", "nothing to vary"),
        ("seeds = [0, 1]\n[settings]\ntau = 7.0", r"tau must be .*; got 7.0"),
        ("seeds = [0\n", "cannot read"),
    ],
)
def test_a_bad_config_is_named_before_anything_runs(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_config(path)


def test_a_sweep_of_seeds_alone_is_a_population(tmp_path):
    from quadcopter.sweep import plot_sweep_results

    path = tmp_path / "seeds.toml"
    path.write_text("seeds = [0, 1, 2]\n[settings]\nenv_steps = 320\n")
    config = read_config(path)
    assert config.varied == [] and trial_name({"seed": 2}) == "seed=2"
    table = pd.DataFrame(dict(trial=["seed=0", "seed=1", "seed=2"], seed=[0, 1, 2], final_success=[1.0, 0.5, 1.0]))
    assert len(plot_sweep_results(table, config).axes[0].patches) == 3  # a bar per seed


def test_without_ray_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    path = tmp_path / "tau.toml"
    path.write_text(TINY)
    monkeypatch.setattr(cli_learning, "ray_available", lambda: False)
    with pytest.raises(SystemExit) as stop:
        main(["sweep", str(path), "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert "pip install -e .[sweep]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="Ray Tune is an optional extra: pip install -e .[sweep]"
)
def test_a_tiny_sweep_writes_its_runs_table_and_plot_and_resumes(tmp_path, capsys):
    path = tmp_path / "tau.toml"
    path.write_text(TINY)
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["trial"]) == ["tau=0.001,seed=0", "tau=0.001,seed=1", "tau=0.005,seed=0", "tau=0.005,seed=1"]
    assert table["final_success"].between(0, 1).all() and (out / "sweep.png").stat().st_size > 10_000
    for name in table["trial"]:
        assert (out / "trials" / name / "evaluation.json").exists()
    with pytest.raises(SystemExit):  # a second sweep into the same folder is refused
        main(["sweep", str(path), "--out", str(out)])
    assert "holds a sweep already" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 0  # finished trials are not run again
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), table)
