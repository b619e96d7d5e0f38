"""Each setting is declared once (agents.checks.setting): the validation, train's flags, --set, settings.json
and the README's tables are made from the declarations; and the layers below TensorFlow stay free of it."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agents.checks import declared_fields, parse_overrides, settings_table
from agents.config import DDPGConfig
from quadcopter.cli import main
from quadcopter.settings import TrainSettings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("settings_class", [TrainSettings, DDPGConfig])
def test_every_field_is_declared_and_its_default_passes_its_own_check(settings_class):
    names = [field.name for field in dataclasses.fields(settings_class)]
    assert [field.name for field, _ in declared_fields(settings_class)] == names
    for field, declared in declared_fields(settings_class):
        assert declared.doc.strip() and "\n" not in declared.doc, field.name  # one line each
    settings_class().validate()


@pytest.mark.parametrize(
    "settings_class, name, bad, message",
    [
        (TrainSettings, "num_envs", 0, r"TrainSettings.num_envs must be an integer in \[1, 4,096\]; got 0"),
        (TrainSettings, "num_envs", 2.0, r"TrainSettings.num_envs must be an integer in \[1, 4,096\]; got 2.0"),
        (TrainSettings, "runtime", 0.0, r"TrainSettings.runtime must be a number of seconds in \(0, 600\]; got 0.0"),
        (TrainSettings, "air_starts", float("nan"), r"TrainSettings.air_starts must be a number in \[0, 1\]; got nan"),
        (TrainSettings, "dynamics", "rigid", r"TrainSettings.dynamics must be one of \['udacity', 'rigid_body'\]"),
        (TrainSettings, "fused", 1, r"TrainSettings.fused must be True or False; got 1"),
        (DDPGConfig, "actor_lr", 1.0, r"DDPGConfig.actor_lr must be a number in \(0, 1\); got 1.0"),
        (DDPGConfig, "critic_units", (64, 0), r"DDPGConfig.critic_units must be 1 to 8 layer widths"),
        (DDPGConfig, "warmup", 10, r"DDPGConfig.warmup must be an integer in \[batch_size=64, buffer_size=100000\]"),
        (DDPGConfig, "critic_action_layer", 4, r"must be an integer in \[0, len\(critic_units\)=3\]; got 4"),
        (DDPGConfig, "seed", True, r"DDPGConfig.seed must be an integer >= 0; got True"),
    ],
)
def test_a_value_outside_its_declared_range_is_named_with_the_range(settings_class, name, bad, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(settings_class(), **{name: bad}).validate()
    # The edges of a range pass: the largest num_envs, the smallest runtime above 0.
    dataclasses.replace(TrainSettings(), num_envs=4096, runtime=1e-3).validate()


def test_set_types_each_value_by_its_declaration():
    changes = parse_overrides(DDPGConfig, ["tau=0.01", "actor_units=32,16", "invert_gradients=yes", "seed=3"])
    assert changes == {"tau": 0.01, "actor_units": (32, 16), "invert_gradients": True, "seed": 3}
    with pytest.raises(ValueError, match=r"--set batch_size needs a value like 64; got '6.5'"):
        parse_overrides(DDPGConfig, ["batch_size=6.5"])
    with pytest.raises(ValueError, match=r"--set takes NAME=VALUE with NAME one of"):
        parse_overrides(DDPGConfig, ["taus=0.01"])


@pytest.mark.slow
def test_train_has_a_flag_for_every_flagged_setting_and_saves_what_it_was_given(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    helped = capsys.readouterr().out
    for flag in TrainSettings.flags().values():
        assert flag in helped
    out = tmp_path / "run"
    flags = ["--env-steps", "640", "--eval-episodes", "2", "--no-progress", "--numpy-path", "--num-envs", "8"]
    flags += ["--steps-per-round", "2", "--air-starts", "0.25", "--test-every", "0", "--out", str(out)]
    assert main(["train", *flags]) == 0
    saved = json.loads((out / "settings.json").read_text())
    assert saved["num_envs"] == 8 and saved["steps_per_round"] == 2 and saved["air_starts"] == 0.25
    assert saved["fused"] is False and saved["test_every"] == 0 and saved["env_steps"] == 640
    assert set(saved) == {field.name for field in dataclasses.fields(TrainSettings)}  # every declared setting
    assert TrainSettings(**saved).validate().num_envs == 8


def test_a_flag_outside_its_range_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--num-envs", "0", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "TrainSettings.num_envs must be an integer in [1, 4,096]; got 0" in capsys.readouterr().err
    assert not out.exists()


def test_the_readme_tables_are_the_declarations():
    readme = (ROOT / "README.md").read_text()
    for settings_class in (TrainSettings, DDPGConfig):
        assert settings_table(settings_class) in readme, (
            f"README's {settings_class.__name__} table is out of date: paste `python -m quadcopter settings`"
        )


def test_the_layers_below_tensorflow_import_without_it():
    """The simulator, the tasks, the settings and the command line's parser load without TensorFlow (5 s
    here); the commands that need it load it by name (quadcopter.cli._learning)."""
    modules = [
        "quadcopter",
        "quadcopter.cli",
        "quadcopter.settings",
        "quadcopter.evaluation",
        "quadcopter.robustness",
        "quadcopter.randomise",
        "quadcopter.export",
        "quadcopter.plots",
        "quadcopter.vector_task",
        "quadcopter.controllers",
        "quadcopter.flight",
        "quadcopter.course",
        "quadcopter.envs",
        "agents.checks",
        "agents.config",
        "agents.ounoise",
        "physics_sim",
        "task",
    ]
    code = f"import sys\nfor m in {modules}: __import__(m)\nprint('tensorflow' in sys.modules, 'keras' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split() == ["False", "False"], done.stderr
