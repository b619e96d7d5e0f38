"""Exported actors compute what the Keras actor computes: C (compiled here), LiteRT, SavedModel and ONNX on
1,000 states to 1e-5 relative; the C observation is the tasks' own; export and evaluate --policy end to end."""

import json

import keras
import numpy as np
import pytest

from agents.actor import Actor
from quadcopter.cli import main
from quadcopter.export import description, export_actor
from quadcopter.exported import compile_c, load_policy
from quadcopter.task_specs import TASKS


@pytest.fixture(scope="module")
def actor_model():
    """A 64-64 actor with weights large enough that its rotor speeds spread over the range (not all ~450)."""
    keras.utils.set_random_seed(3)  # the same weights every run
    actor = Actor(15, 4, 0.0, 900.0, units=(64, 64), final_init=0.3)
    return actor.model


@pytest.fixture(scope="module")
def states():
    return np.random.default_rng(0).normal(0.0, 1.0, (1000, 15)).astype(np.float32)


@pytest.mark.parametrize("export_format", ["c", "tflite", "savedmodel", "onnx"])
def test_each_export_flies_the_keras_actors_actions(actor_model, states, tmp_path, export_format):
    if export_format == "onnx":
        for package in ("tf2onnx", "onnx", "onnxruntime"):
            pytest.importorskip(package, reason=f"ONNX export needs the optional {package} (pip install -e .[export])")
    paths = export_actor(actor_model, export_format, tmp_path, description(None, {}, "actor.keras", export_format))
    expected = actor_model(states).numpy()
    assert 50.0 < np.ptp(expected) and expected.min() > 1.0  # spread out, and never so near 0 that rtol is moot
    np.testing.assert_allclose(load_policy(paths[0])(states), expected, rtol=1e-5)
    info = json.loads((tmp_path / "policy.json").read_text())
    assert info["observation"]["size"] == 15 and info["action"]["high"] == 900.0 and info["format"] == export_format


@pytest.mark.parametrize("task_name", ["takeoff", "land"])
def test_the_c_export_is_plain_c_with_no_dynamic_memory_and_observes_as_the_tasks_do(tmp_path, task_name):
    task = TASKS[task_name]()
    model = Actor(task.state_size, 4, 0.0, 900.0, units=(64, 64)).model
    export_actor(model, "c", tmp_path, description(None, {"task": task_name}, "actor.keras", "c"))
    source = (tmp_path / "policy.c").read_text()
    assert "malloc" not in source and f"static const float KERNEL_0[{64 * task.state_size}]" in source
    assert "void policy(const float obs[POLICY_OBS_SIZE], float rotor_speeds[POLICY_ACTION_SIZE])" in source
    lib = compile_c(tmp_path / "policy.c")
    import ctypes

    rng = np.random.default_rng(1)
    scale = np.array([5, 5, 10, 7, 7, 7, 3, 3, 3, 4, 4, 4])
    physics = rng.uniform(-1.0, 1.0, (200, 12)) * scale + np.array([0, 0, 10] + [0] * 9)
    physics[::4, 2] = 0.0  # some on the ground: the landing's resting flag
    goals = rng.uniform(-5.0, 5.0, (200, 3)) + [0, 0, 10]
    pointer = ctypes.POINTER(ctypes.c_float)
    lib.observe.argtypes = [pointer, pointer, pointer]
    for row, goal in zip(physics.astype(np.float32), goals.astype(np.float32)):
        obs = np.zeros(task.state_size, np.float32)
        lib.observe(row.ctypes.data_as(pointer), goal.ctypes.data_as(pointer), obs.ctypes.data_as(pointer))
        expected = task.observe(row[None, :].astype(float), goal[None, :].astype(float))[0]
        np.testing.assert_allclose(obs, expected, rtol=1e-5, atol=1e-5)


def test_export_refuses_to_replace_files_and_names_unknown_formats(actor_model, tmp_path):
    export_actor(actor_model, "c", tmp_path, description(None, {}, "actor.keras", "c"))
    before = (tmp_path / "policy.c").read_text()
    with pytest.raises(ValueError, match="would replace .*policy.c"):
        export_actor(actor_model, "c", tmp_path, description(None, {}, "actor.keras", "c"))
    assert (tmp_path / "policy.c").read_text() == before
    with pytest.raises(ValueError, match="--format must be one of c, tflite, onnx, savedmodel; got 'h5'"):
        export_actor(actor_model, "h5", tmp_path / "other", {})
    with pytest.raises(ValueError, match="policy.c, .tflite, .onnx or SavedModel"):
        load_policy(tmp_path / "policy.h")


def test_evaluate_flies_an_export_as_it_flies_the_keras_actor(actor_model, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    actor_model.save(run / "actor_final.keras")
    settings = dict(task="hover", dynamics="rigid_body", action_repeat=3, runtime=2.0, observation_version=2)
    (run / "settings.json").write_text(json.dumps(settings))
    assert main(["export", str(run), "--format", "c"]) == 0
    assert "wrote" in capsys.readouterr().out and (run / "export-c" / "policy.h").exists()
    assert main(["evaluate", str(run / "actor_final.keras"), "--episodes", "5"]) == 0
    keras_report = capsys.readouterr().out.splitlines()[1:]
    assert main(["evaluate", "--policy", str(run / "export-c" / "policy.c"), "--episodes", "5"]) == 0
    c_report = capsys.readouterr().out.splitlines()[1:]
    assert "over 5 hover episodes (rigid_body dynamics)" in c_report[0]
    assert c_report == keras_report  # the same success rates, altitude and return, to the printed digits


def test_an_actor_that_sees_its_last_actions_exports_and_flies_with_them(tmp_path, capsys):
    """A run trained with --randomise ...,history=2: its actor takes 15 + 8 numbers; policy.json says so, and
    evaluate --policy flies the C export feeding it its last actions, as it flies the Keras actor."""
    keras.utils.set_random_seed(4)
    model = Actor(23, 4, 0.0, 900.0, units=(32, 32), final_init=0.3).model
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "actor_final.keras")
    settings = dict(task="takeoff", dynamics="rigid_body", runtime=2.0, observation_version=2, randomise="history=2")
    (run / "settings.json").write_text(json.dumps(settings))
    assert main(["export", str(run), "--format", "c"]) == 0
    info = json.loads((run / "export-c" / "policy.json").read_text())
    assert info["observation"]["size"] == 23 and info["observation"]["action_history"] == 2
    assert "#define POLICY_OBS_SIZE 23" in (run / "export-c" / "policy.h").read_text()
    capsys.readouterr()
    assert main(["evaluate", str(run / "actor_final.keras"), "--episodes", "5"]) == 0
    keras_report = capsys.readouterr().out.splitlines()[1:]
    assert main(["evaluate", "--policy", str(run / "export-c" / "policy.c"), "--episodes", "5"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == keras_report
