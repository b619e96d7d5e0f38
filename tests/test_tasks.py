"""The tasks: the Udacity Task API, terminated vs truncated, clipping, bad input, the vector takeoff."""

import numpy as np
import pytest

from quadcopter import hover_rotor_speed
from quadcopter.tasks import (HoverTask, ReachTargetTask, TakeoffTask, VectorTakeoffTask, takeoff_observation,
                              takeoff_reward, takeoff_success)
from task import Task


def test_udacity_task_api_and_takeoff_defaults():
    task = Task()
    assert isinstance(task, TakeoffTask)
    assert (task.action_size, task.action_low, task.action_high, task.action_repeat) == (4, 0, 900, 3)
    np.testing.assert_array_equal(task.target_pos, [0, 0, 10])
    np.testing.assert_array_equal(task.sim.init_pose, np.zeros(6))  # on the ground
    state = task.reset()
    assert state.shape == (task.state_size,) == (12,)
    np.testing.assert_allclose(state[:3], [0, 0, -1])  # 10 m below the target, in units of 10 m
    next_state, reward, done = task.step([450] * 4)
    assert next_state.shape == (12,) and isinstance(reward, float) and done is False
    assert next_state[5] > 0  # climbing
    # Original constructor, by position.
    other = Task([0, 0, 1, 0, 0, 0], [0, 0, 0], [0, 0, 0], 3.0, [0, 0, 5])
    assert other.sim.runtime == 3.0 and other.target_pos[2] == 5


def test_reward_is_in_0_1_and_best_at_the_target():
    target = np.array([0, 0, 10.0])
    at_target = takeoff_reward(np.array([0, 0, 10, 0, 0, 0.0]), np.zeros(3), np.zeros(3), target)
    assert at_target == 1.0
    on_ground = takeoff_reward(np.array([0, 0, 0, 0, 0, 0.0]), np.zeros(3), np.zeros(3), target)
    tilted = takeoff_reward(np.array([0, 0, 10, 0.5, 0, 0.0]), np.zeros(3), np.zeros(3), target)
    assert 0 <= on_ground < tilted < at_target
    # Altitude: 0.02 a metre from 10 m away, and 0.1 a metre more within 2 m of the target.
    at = lambda z: takeoff_reward(np.array([0, 0, z, 0, 0, 0.0]), np.zeros(3), np.zeros(3), target)  # noqa: E731
    assert at(9.0) - at(8.0) == pytest.approx(0.02 + 0.1)
    assert at(5.0) - at(4.0) == pytest.approx(0.02)
    rng = np.random.default_rng(0)
    rewards = takeoff_reward(rng.normal(0, 50, (1000, 6)), rng.normal(0, 20, (1000, 3)), rng.normal(0, 9, (1000, 3)),
                             target)
    assert rewards.shape == (1000,) and rewards.min() >= 0 and rewards.max() <= 1


def test_observation_wraps_the_udacity_angles():
    pose = np.array([1, 2, 3, 2 * np.pi - 0.1, 0.2, 0])
    state = takeoff_observation(pose, np.zeros(3), np.zeros(3), np.array([0, 0, 10.0]))
    np.testing.assert_allclose(state[6:9], [-0.1, 0.2, 0], atol=1e-12)


def test_a_crash_is_terminated_and_stops_sub_stepping():
    task = Task()
    task.reset()
    _, reward, done = task.step([300] * 4)  # below hover, on the ground: the z = 0 bound
    assert done and task.terminated and not task.truncated
    assert task.sim.time == pytest.approx(task.sim.dt)  # one sub-step, not three
    assert 0 <= reward <= 1


def test_the_time_limit_is_truncated_not_terminated():
    task = HoverTask(runtime=0.5)
    task.reset()
    done, steps = False, 0
    while not done:
        _, _, done = task.step([hover_rotor_speed()] * 4)
        steps += 1
    assert task.truncated and not task.terminated and task.success
    assert steps == 9  # 26 sub-steps of 0.02 s pass 0.5 s; 3 a step


def test_finite_actions_are_clipped_to_the_range():
    clipped, reference = Task(), Task()
    clipped.reset(), reference.reset()
    clipped.step([1e6, 2000, 901, 900])
    reference.step([900] * 4)
    np.testing.assert_array_equal(clipped.sim.pose, reference.sim.pose)


@pytest.mark.parametrize("bad", [[400, 400, 400], [400, 400, np.nan, 400], [400, np.inf, 400, 400], np.zeros((1, 4))])
def test_bad_actions_raise_without_touching_the_sim(bad):
    task = Task()
    task.reset()
    task.step([450] * 4)
    pose, time = task.sim.pose.copy(), task.sim.time
    with pytest.raises(ValueError, match=r"rotor speeds must be finite with shape \(4,\).*\[0.0, 900.0\]"):
        task.step(bad)
    np.testing.assert_array_equal(task.sim.pose, pose)
    assert task.sim.time == time


def test_bad_task_arguments_raise():
    with pytest.raises(ValueError, match="action_repeat must be an integer >= 1"):
        TakeoffTask(action_repeat=0)
    with pytest.raises(ValueError, match="target_pos must be 3 finite values"):
        Task(target_pos=[0, 10])


def test_original_sample_task_reward_and_stacked_state():
    task = ReachTargetTask(target_pos=[0, 0, 12])
    state = task.reset()
    assert state.shape == (18,) == (task.state_size,)
    np.testing.assert_array_equal(state, np.tile([0, 0, 10, 0, 0, 0], 3))
    poses, expected = [], 0.0
    shadow = ReachTargetTask(target_pos=[0, 0, 12])
    shadow.reset()
    for _ in range(3):
        shadow.sim.next_timestep([420] * 4)
        poses.append(shadow.sim.pose.copy())
        expected += 1 - 0.3 * np.abs(shadow.sim.pose[:3] - [0, 0, 12]).sum()
    next_state, reward, _ = task.step([420] * 4)
    np.testing.assert_allclose(next_state, np.concatenate(poses))
    assert reward == pytest.approx(expected)


def test_vector_takeoff_rows_are_takeoff_tasks():
    rng = np.random.default_rng(5)
    vector = VectorTakeoffTask(4, rng, runtime=1.0)
    states = vector.reset()
    singles = [Task(init_pose=vector.sim.init_pose[i], init_velocities=vector.sim.init_velocities[i], runtime=1.0)
               for i in range(4)]
    for i, task in enumerate(singles):
        np.testing.assert_array_equal(task.reset(), states[i])
    actions = np.array([[300.0] * 4, [450.0] * 4, [900.0] * 4, [420, 430, 440, 450]])
    for step in range(20):
        next_states, rewards, terminated, truncated = vector.step(actions)
        for i, task in enumerate(singles):
            if task.sim.done:
                continue
            state, reward, done = task.step(actions[i])
            np.testing.assert_allclose(next_states[i], state, rtol=1e-12, atol=1e-12)
            assert rewards[i] == pytest.approx(reward, rel=1e-12)
            assert (terminated[i], truncated[i]) == (task.terminated, task.truncated)
    finished = vector.pop_finished()
    assert len(finished) >= 4 and vector.pop_finished() == []
    crashes = [e for e in finished if e["length"] < 17]
    assert crashes and not any(e["success"] for e in crashes)  # row 0: below hover, it falls
    assert any(e["length"] == 17 for e in finished)  # 1 s: 51 sub-steps, 17 actions


def test_success_rule():
    assert takeoff_success(10.9, True) and not takeoff_success(11.1, True) and not takeoff_success(10.0, False)
