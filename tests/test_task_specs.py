"""One task definition, every path: the Udacity loop, the numpy vector path and the fused TensorFlow path
fly the same episodes of every built-in task, on both dynamics; a learner's task is checked before training."""

import numpy as np
import pytest
import tensorflow as tf

from quadcopter.dynamics import DYNAMICS
from quadcopter.task_specs import TASKS, FlightTask, Hover, NumpyDraw, Reach, load_task
from quadcopter.tasks import TakeoffTask
from quadcopter.tensor_task import check_task, initial_state, task_step
from quadcopter.vector_task import ScalarTask, VectorTask

N, RUNTIME, STEPS = 6, 0.8, 16  # 0.8 s: 14 agent steps of 3 sub-steps, then the time limit


def actions_for(steps, n, seed=5):
    """Rotor speeds (steps, n, 4) near hover, one row with its rotors off (it falls: a crash from the ground)."""
    speeds = np.random.default_rng(seed).uniform(380.0, 440.0, (steps, n, 4))
    speeds[:, 0] = 0.0
    return speeds


def numpy_episodes(task, dynamics, starts, goals, speeds, training_ends=False):
    envs = VectorTask(
        len(starts), np.random.default_rng(0), RUNTIME, dynamics=dynamics, task=task, training_ends=training_ends
    )
    envs.restart_from(starts, goals)
    rows, success = [], {}
    for step in speeds:
        result = envs.step(step)
        rows.append(tuple(np.array(x, dtype=float) for x in result))
        for episode in envs.pop_finished():
            success.setdefault(episode["env"], episode["success"])
    return rows, [success[i] for i in range(len(starts))]


def tensor_episodes(task, dynamics, starts, goals, speeds, training_ends=False):
    starts_t, goals_t = tf.constant(starts), tf.constant(goals)
    state = initial_state(starts_t, goals=goals_t)
    rows, success = [], {}
    for step in speeds:
        restarts = (starts_t, goals_t, state.air_start)
        state, result = task_step(
            task, state, tf.constant(step), restarts, runtime=RUNTIME, dynamics=dynamics, training_ends=training_ends
        )
        rows.append(tuple(np.array(x, dtype=float) for x in result[:4]))
        for i in np.flatnonzero(result.ended.numpy()):
            success.setdefault(int(i), bool(result.success.numpy()[i]))
    return rows, [success[i] for i in range(len(starts))]


def scalar_episodes(task, dynamics, starts, goals, speeds, training_ends=False):
    """Row by row, one Udacity loop each: reset(start, goal), then step() until done."""
    per_row, success = [], []
    for i in range(len(starts)):
        single = ScalarTask(task, RUNTIME, dynamics, training_ends=training_ends)
        single.reset(starts[i], goals[i])
        rows = []
        for step in speeds:
            next_state, reward, done = single.step(step[i])
            rows.append((next_state, reward, single.terminated, single.truncated))
            if done:
                break
        per_row.append(rows)
        success.append(single.success)
    return per_row, success


@pytest.mark.parametrize("dynamics", DYNAMICS)
@pytest.mark.parametrize("name", sorted(TASKS))
def test_the_three_paths_fly_the_same_episodes(name, dynamics):
    task = TASKS[name]()
    starts, goals = task.test_starts(NumpyDraw(np.random.default_rng(11)), N)
    speeds = actions_for(STEPS, N)
    vector, vector_success = numpy_episodes(task, dynamics, starts, goals, speeds)
    tensor, tensor_success = tensor_episodes(task, dynamics, starts, goals, speeds)
    flying = np.ones(N, dtype=bool)  # rows still in their first episode (restarts are drawn differently)
    for a, b in zip(vector, tensor):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x[flying], y[flying], rtol=1e-9, atol=1e-9)
        flying &= ~(a[2] + a[3]).astype(bool)
    assert vector_success == tensor_success
    scalar, scalar_success = scalar_episodes(task, dynamics, starts, goals, speeds)
    assert scalar_success == vector_success
    for i, rows in enumerate(scalar):
        for k, (next_state, reward, terminated, truncated) in enumerate(rows):
            np.testing.assert_allclose(next_state, vector[k][0][i], rtol=1e-12, atol=1e-12)
            assert reward == pytest.approx(vector[k][1][i], rel=1e-12, abs=1e-12)
            assert (terminated, truncated) == (bool(vector[k][2][i]), bool(vector[k][3][i]))
    ended = [row for row in vector if (row[2] + row[3]).any()]
    assert ended, "no episode ended: the test would not compare ends"


@pytest.mark.parametrize("dynamics", DYNAMICS)
def test_the_udacity_takeoff_task_is_the_takeoff_of_every_path(dynamics):
    task = FlightTask()
    starts, goals = task.test_starts(NumpyDraw(np.random.default_rng(3)), 3)
    speeds = actions_for(STEPS, 3)
    vector, _ = numpy_episodes(task, dynamics, starts, goals, speeds)
    for i in range(3):
        udacity = TakeoffTask(starts[i, 0:6], starts[i, 6:9], starts[i, 9:12], runtime=RUNTIME, dynamics=dynamics)
        udacity.reset()
        for k, step in enumerate(speeds):
            next_state, reward, done = udacity.step(step[i])
            np.testing.assert_allclose(next_state, vector[k][0][i], rtol=1e-12, atol=1e-12)
            assert reward == pytest.approx(vector[k][1][i], rel=1e-12)
            if done:
                break


def test_the_starts_and_goals_lie_where_the_specification_says():
    draw = NumpyDraw(np.random.default_rng(0))
    starts, goals = Hover().test_starts(draw, 2000)
    offsets = starts[:, 0:3] - np.array([0, 0, 10])
    assert np.abs(offsets).max() <= 1.0 and np.abs(starts[:, 6:9]).max() <= 2.0
    assert np.abs(starts[:, 3:6]).max() <= 0.3 and np.abs(starts[:, 9:12]).max() <= 1.0
    assert np.abs(offsets).max() > 0.95 and np.abs(starts[:, 6:9]).max() > 1.9  # the ranges are used
    starts, goals = Reach().test_starts(draw, 2000)
    for values in (starts[:, 0:3], goals):
        assert (values >= [-5, -5, 5]).all() and (values <= [5, 5, 15]).all()
        assert (values.max(axis=0) - values.min(axis=0) > 9.5).all()  # 10 m across on every axis
    assert np.abs(starts[:, 6:9]).max() <= 0.5
    starts, goals = FlightTask().test_starts(draw, 100)
    assert (starts[:, 2] <= 0.5).all() and (goals == [0, 0, 10]).all()


class Perch(FlightTask):
    """A learner's task: hold 2 m lower than the takeoff, paid for height alone."""

    def reward(self, physics, goal, dynamics, xp=np):
        return xp.exp(-xp.abs(physics[:, 2] - (goal[:, 2] - 2.0)))


MYTASKS = (
    "import numpy as np\nfrom quadcopter.task_specs import FlightTask\n\n"
    "class Perch(FlightTask):\n"
    "    def reward(self, physics, goal, dynamics, xp=np):\n"
    "        return xp.exp(-xp.abs(physics[:, 2] - 8.0))\n"
)
"""A learner's module of tasks, as a file beside them."""


def test_a_learners_task_runs_on_every_path_and_loads_by_name(tmp_path, monkeypatch):
    check_task(Perch())
    (tmp_path / "mytasks.py").write_text(MYTASKS)
    monkeypatch.chdir(tmp_path)
    assert type(load_task("mytasks:Perch")).__name__ == "Perch"
    assert Perch().reward_range(3) is None and FlightTask().reward_range(3) == (0.0, 3.75)


class WrongShape(FlightTask):
    def reward(self, physics, goal, dynamics, xp=np):
        return physics[:, 0:2]


class NumpyOnly(FlightTask):
    def reward(self, physics, goal, dynamics, xp=np):
        return np.asarray(physics)[:, 2] * 0.0 + np.clip(np.asarray(physics)[:, 2], 0, 1)


class NotFinite(FlightTask):
    def observe(self, physics, goal, xp=np):
        return super().observe(physics, goal, xp) / 0.0


class NegativeTilt(FlightTask):
    tilt_limit = -0.5  # every training episode would end at once


@pytest.mark.parametrize(
    "task, message",
    [
        (WrongShape(), r"WrongShape: reward\(\) must return shape \(5,\); got \(5, 2\)"),
        (NumpyOnly(), r"NumpyOnly: reward\(\) failed on TensorFlow tensors \(the fast path\)"),
        (NotFinite(), r"NotFinite: observe\(\) returned a value that is not finite"),
        (NegativeTilt(), r"NegativeTilt: tilt_limit must be None or in \(0, pi\] rad; got -0.5"),
    ],
)
def test_a_broken_learners_task_is_named_before_training(task, message):
    with np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match=message):
            check_task(task)


def test_the_built_in_courses_have_waypoints_2_to_5_m_apart_and_read_from_files(tmp_path):
    from quadcopter.course import COURSES, distance_to_polyline, read_waypoints

    for name in COURSES:
        waypoints = read_waypoints(name)
        gaps = np.linalg.norm(np.diff(waypoints, axis=0), axis=1)
        assert len(waypoints) >= 9 and gaps.min() >= 2.0 and gaps.max() <= 5.0, (name, gaps)
    path = tmp_path / "line.csv"
    path.write_text("x,y,z\n0,0,10\n3,0,10\n3,4,10\n")
    np.testing.assert_array_equal(read_waypoints(path), [[0, 0, 10], [3, 0, 10], [3, 4, 10]])
    path.write_text("0,0,10\n")
    with pytest.raises(ValueError, match="need at least 2 lines of 3 finite numbers"):
        read_waypoints(path)
    points = np.array([[1.5, 1.0, 10.0], [3.0, 2.0, 10.0]])
    segment = np.array([[0.0, 0.0, 10.0], [3.0, 0.0, 10.0]])
    np.testing.assert_allclose(distance_to_polyline(points, segment), [1.0, 2.0])


def test_a_course_switches_goal_within_the_radius_and_reports_the_path(monkeypatch):
    from quadcopter.course import fly_course

    seen = []

    def act(states):  # hover thrust; remember the goal's error as the observation shows it (m)
        seen.append(states[0, 0:3] * 2.5)
        return np.full((1, 4), 404.0)

    waypoints = np.array([[0, 0, 10], [0, 0, 10.3], [0, 0, 10.3]])  # the second within 0.5 m of the start
    flight, summary = fly_course(act, waypoints, hold=0.5, timeout=2.0)
    assert summary["passed"] == 2 and summary["all_passed"] and not summary["crashed"]
    assert set(flight["goal"]) == {1, 2} and summary["largest_distance"] < 0.31
    far = np.array([[0, 0, 10], [0, 0, 14]])  # a goal never reached: the leg times out
    flight, summary = fly_course(act, far, hold=0.5, timeout=1.0)
    assert summary["passed"] == 0 and not summary["all_passed"] and summary["seconds"] == pytest.approx(1.0, abs=0.03)


def test_the_gymnasium_env_runs_every_task_by_name():
    gymnasium = pytest.importorskip("gymnasium", reason="the Gymnasium extra is not installed")
    from gymnasium.utils.env_checker import check_env

    import quadcopter.envs  # noqa: F401  (registers the ids)

    for name, size in (("QuadcopterHoverPush-v0", 15), ("QuadcopterReach-v0", 15), ("QuadcopterLand-v0", 16)):
        env = gymnasium.make(f"quadcopter.envs:{name}")
        check_env(env.unwrapped, skip_render_check=True)
        observation, _ = env.reset(seed=3)
        assert observation.shape == (size,) and env.observation_space.contains(observation)
    env = gymnasium.make("quadcopter.envs:QuadcopterTask-v0", task=Perch())
    env.reset(seed=0)
    _, reward, *_ = env.step(np.zeros(4, np.float32))
    assert 0.0 < reward <= 3.0  # Perch's reward, three sub-steps of exp(-|z - 8|)


def test_simulate_starts_where_the_task_starts(tmp_path, capsys):
    import pandas as pd

    from quadcopter.cli import main

    main(["simulate", "--task", "hover", "--controller", "hover", "--seed", "2", "--out", str(tmp_path / "h.csv")])
    starts, _ = Hover().test_starts(NumpyDraw(np.random.default_rng(2)), 1)
    first = pd.read_csv(tmp_path / "h.csv").iloc[0]
    np.testing.assert_allclose(first[["x", "y", "z", "x_velocity"]], starts[0, [0, 1, 2, 6]])
    from test_bad_input import one_line_exit_2

    one_line_exit_2(capsys, ["simulate", "--task", "course", "--out", str(tmp_path / "c.csv")], "give --actor")
    perch = ["train", "--task", "perch", "--out", str(tmp_path / "r")]
    one_line_exit_2(capsys, perch, "TrainSettings.task must be one of")


@pytest.mark.slow
def test_a_learners_task_trains_on_the_fast_path_from_the_command_line(tmp_path, monkeypatch, capsys):
    import json

    from quadcopter.cli import main

    (tmp_path / "mytasks.py").write_text(MYTASKS)
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--task", "mytasks:Perch", "--env-steps", "640", "--eval-episodes", "2", "--no-progress"]
    assert main([*argv, "--out", "run"]) == 0
    assert json.loads((tmp_path / "run" / "settings.json").read_text())["task"] == "mytasks:Perch"
    assert "over 2 mytasks:Perch episodes" in capsys.readouterr().out
    assert main(["evaluate", "run", "--episodes", "2"]) == 0
