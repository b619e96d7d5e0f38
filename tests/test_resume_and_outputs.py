"""What a user made is never replaced or mixed up, and resume says precisely what is wrong."""

import json
import shutil

import pandas as pd
import pytest
from test_bad_input import one_line_exit_2
from test_training import TINY, _saved_counters, tiny_settings

from quadcopter.cli import main
from quadcopter.training import train


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny run, trained once for the tests below, which copy it before changing anything."""
    out = tmp_path_factory.mktemp("runs") / "run"
    train(TINY, tiny_settings(env_steps=400, checkpoint_every=1e-6, fused=False), out=out, progress=False)
    return out


def copy_of(run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    return copy


@pytest.mark.slow
def test_resume_recovers_a_run_whose_checkpoint_index_is_missing(finished_run, tmp_path, capsys):
    run = copy_of(finished_run, tmp_path)
    (run / "checkpoints" / "checkpoint").unlink()  # the index only: the checkpoint files are intact
    train(out=run, resume=True, progress=False, budget=dict(env_steps=640))
    said = capsys.readouterr().out
    assert "checkpoint index" in said and "missing" in said and "--overwrite" not in said
    assert _saved_counters(run)["env_steps"] == 640


def test_resume_without_any_checkpoint_never_suggests_overwrite(finished_run, tmp_path):
    run = copy_of(finished_run, tmp_path)
    shutil.rmtree(run / "checkpoints")
    with pytest.raises(ValueError, match="holds no checkpoint") as error:
        train(out=run, resume=True, progress=False)
    assert "overwrite" not in str(error.value)


@pytest.mark.parametrize(
    "name, key, value",
    [("config.json", "actor_units", [16, 16]), ("settings.json", "num_envs", 4)],
)
def test_resume_names_the_run_file_that_was_edited(finished_run, tmp_path, name, key, value):
    run = copy_of(finished_run, tmp_path)
    values = json.loads((run / name).read_text())
    values[key] = value
    (run / name).write_text(json.dumps(values))
    before = sorted(p.name for p in run.rglob("*"))
    with pytest.raises(ValueError, match=rf"{name} was edited after the run's checkpoints were written \({key} "):
        train(out=run, resume=True, progress=False, budget=dict(env_steps=600))
    assert sorted(p.name for p in run.rglob("*")) == before


def test_resume_with_a_budget_already_spent_is_refused_and_changes_nothing(finished_run, tmp_path):
    run = copy_of(finished_run, tmp_path)
    settings = (run / "settings.json").read_bytes()
    with pytest.raises(ValueError, match=r"the new budget \{'env_steps': 200\} is used up already: .* 400 environment"):
        train(out=run, resume=True, progress=False, budget=dict(env_steps=200))
    assert (run / "settings.json").read_bytes() == settings


def test_simulate_never_replaces_a_flight_without_overwrite(tmp_path, capsys):
    out = tmp_path / "flight.csv"
    assert main(["simulate", "--runtime", "0.2", "--out", str(out)]) == 0
    first = out.read_bytes()
    one_line_exit_2(
        capsys,
        ["simulate", "--controller", "random", "--runtime", "0.2", "--out", str(out)],
        f"simulate would replace {out}",
    )
    assert out.read_bytes() == first
    assert main(["simulate", "--controller", "random", "--runtime", "0.2", "--out", str(out), "--overwrite"]) == 0
    assert out.read_bytes() != first


def test_seed_and_set_seed_must_agree(tmp_path, capsys):
    one_line_exit_2(
        capsys,
        ["train", "--seed", "3", "--set", "seed=5", "--out", str(tmp_path / "r")],
        "--seed 3 and --set seed=5 disagree",
    )
    assert not (tmp_path / "r").exists()


def test_evaluate_says_when_the_actor_flies_on_other_dynamics(finished_run, tmp_path, capsys):
    run = copy_of(finished_run, tmp_path)
    from quadcopter.runs import Run
    from quadcopter.training import make_agent

    config, settings = Run(run).load_config()
    make_agent(config, settings).actor_local.network.save(run / "actor.keras")
    main(["evaluate", str(run), "--episodes", "2", "--dynamics", "rigid_body"])
    said = capsys.readouterr().out
    assert "this actor learned on the udacity dynamics and flies on rigid_body here" in said
    main(["evaluate", str(run), "--episodes", "2"])
    assert "note:" not in capsys.readouterr().out
    (run / "settings.json").write_text("[1, 2]")
    one_line_exit_2(capsys, ["evaluate", str(run)], "settings.json must hold a JSON object of the run's settings")


def test_plot_refuses_a_nan_before_writing_any_picture(tmp_path, capsys):
    assert main(["simulate", "--runtime", "0.2", "--out", str(tmp_path / "f.csv")]) == 0
    flight = pd.read_csv(tmp_path / "f.csv")
    flight.loc[3, "z"] = float("nan")
    flight.to_csv(tmp_path / "bad.csv", index=False)
    one_line_exit_2(capsys, ["plot", str(tmp_path / "bad.csv")], "column 'z' holds nan in row 4")
    assert not list(tmp_path.glob("bad*.png"))
    run = tmp_path / "run"
    run.mkdir()
    pd.read_csv(tmp_path / "f.csv").to_csv(run / "flight.csv", index=False)
    flight.assign(flight=1).to_csv(run / "evaluation_flights.csv", index=False)
    one_line_exit_2(capsys, ["plot", str(run)], "evaluation_flights.csv: column 'z' holds nan")
    assert not list(run.glob("*.png"))  # flight.csv was fine, but nothing was drawn
