"""The tasks: the Udacity Task API, terminated vs truncated, clipping, bad input, the vector takeoff."""

import numpy as np
import pytest

from quadcopter import hover_rotor_speed
from quadcopter.tasks import (
    REWARD_MAX,
    YAW_WEIGHTS,
    HoverTask,
    ReachTargetTask,
    TakeoffTask,
    takeoff_observation,
    takeoff_reward,
    takeoff_success,
)
from quadcopter.vector_task import VectorTakeoffTask
from task import Task


def test_udacity_task_api_and_takeoff_defaults():
    task = Task()
    assert isinstance(task, TakeoffTask)
    assert (task.action_size, task.action_low, task.action_high, task.action_repeat) == (4, 0, 900, 3)
    np.testing.assert_array_equal(task.target_pos, [0, 0, 10])
    assert task.sim.runtime == 10.0 and task.random_starts and task.air_starts == 0.5
    # Random starts, half of them around the target, the rest on the ground.
    starts = []
    for _ in range(200):
        state = task.reset()
        assert state.shape == (task.state_size,) == (15,)
        starts.append((task.in_air_start, task.sim.pose.copy()))
    in_air = np.array([air for air, _ in starts])
    poses = np.array([pose for _, pose in starts])
    assert 0.35 < in_air.mean() < 0.65
    assert np.all(np.abs(poses[in_air, :3] - [0, 0, 10]) <= 2.0)
    assert np.all((poses[~in_air, 2] >= 0) & (poses[~in_air, 2] <= 0.5)) and np.all(poses[~in_air, 3:] == 0)
    assert not np.array_equal(Task(seed=1).reset(), Task(seed=2).reset())
    np.testing.assert_array_equal(Task(seed=3).reset(), Task(seed=3).reset())
    # Original constructor, by position: a fixed start, as in the Udacity project.
    ground = Task([0, 0, 0, 0, 0, 0])
    assert not ground.random_starts
    np.testing.assert_allclose(ground.reset()[:3], [0, 0, -4])  # 10 m below the target, in units of 2.5 m
    next_state, reward, done = ground.step([450] * 4)
    assert next_state.shape == (15,) and isinstance(reward, float) and done is False
    assert next_state[5] > 0  # climbing
    other = Task([0, 0, 1, 0, 0, 0], [0, 0, 0], [0, 0, 0], 3.0, [0, 0, 5])
    assert other.sim.runtime == 3.0 and other.target_pos[2] == 5
    with pytest.raises(ValueError, match=r"air_starts must be a share in \[0, 1\]; got 1.5"):
        Task(air_starts=1.5)


def test_reward_is_in_0_1_25_and_best_at_the_target():
    target = np.array([0, 0, 10.0])

    def reward(pose, velocity=(0, 0, 0), rates=(0, 0, 0), dynamics="udacity"):
        return takeoff_reward(
            np.array(pose, float), np.array(velocity, float), np.array(rates, float), target, dynamics=dynamics
        )

    at_target = reward([0, 0, 10, 0, 0, 0])
    assert at_target == 1.25 == REWARD_MAX
    on_ground, tilted = reward([0, 0, 0, 0, 0, 0]), reward([0, 0, 10, 0.5, 0, 0])
    yawing, moving = reward([0, 0, 10, 0, 0, 0], rates=(0, 0, 1)), reward([0, 0, 10, 0, 0, 0], velocity=(1, 0, 0))
    assert 0 <= on_ground < tilted < at_target and yawing < at_target and moving < at_target

    # Closeness multiplies everything: (exp(-d / 3) + exp(-d)) / 2 + 0.25 exp(-d / 0.1), the same in every
    # direction; the hover bonus makes the last centimetres pay.
    def closeness(d):
        return (np.exp(-d / 3) + np.exp(-d)) / 2 + 0.25 * np.exp(-d / 0.1)

    assert on_ground == pytest.approx(closeness(10)) == pytest.approx(0.0179, abs=1e-4)
    assert reward([0, 0, 9.95, 0, 0, 0]) == pytest.approx(closeness(0.05)) == pytest.approx(1.119, abs=1e-3)
    assert reward([0, 0, 9.98, 0, 0, 0]) == pytest.approx(1.191, abs=1e-3)
    assert reward([0, 0, 9, 0, 0, 0]) == pytest.approx(closeness(1)) == reward([1, 0, 10, 0, 0, 0])
    assert reward([0, 0, 9, 0, 0, 0]) == pytest.approx(0.542, abs=1e-3)
    assert reward([0, 0, 9, 0.5, 0, 0]) == pytest.approx(closeness(1) * (1 - 0.25 * 0.5 / (np.pi / 2)))
    # On the rigid body (YAW_WEIGHTS) the yaw costs as the tilt does, by its wrapped size: facing psi = 0
    # pays the most.
    assert YAW_WEIGHTS == {"udacity": 0.0, "rigid_body": 0.25}
    yawed = reward([0, 0, 10, 0, 0, 0.5], dynamics="rigid_body")
    assert yawed == pytest.approx(REWARD_MAX * (1 - 0.25 * 0.5 / (np.pi / 2)))
    assert (
        reward([0, 0, 10, 0, 0, -0.5], dynamics="rigid_body")
        == pytest.approx(yawed)
        == pytest.approx(reward([0, 0, 10, 0, 0, 2 * np.pi + 0.5], dynamics="rigid_body"))
    )
    assert reward([0, 0, 10, 0.3, 0.2, 3.0], dynamics="rigid_body") == pytest.approx(
        REWARD_MAX * (1 - 0.25 * 0.5 / (np.pi / 2) - 0.25 * min(3.0 / (np.pi / 2), 1))
    )
    assert reward([0, 0, 10, 0, 0, np.pi - 0.01], dynamics="rigid_body") == pytest.approx(REWARD_MAX * 0.75)
    # On the Udacity simulator (the default, as everywhere) the yaw costs nothing.
    pose = [0, 0, 9.9, 0.2, 0.1, 1.0]
    assert reward(pose) == reward([0, 0, 9.9, 0.2, 0.1, 0.0]) > reward(pose, dynamics="rigid_body")
    with pytest.raises(ValueError, match=r"dynamics must be one of .*'rigid'"):
        reward(pose, dynamics="rigid")
    rng = np.random.default_rng(0)
    for dynamics in ("udacity", "rigid_body"):
        rewards = takeoff_reward(
            rng.normal(0, 50, (1000, 6)),
            rng.normal(0, 20, (1000, 3)),
            rng.normal(0, 9, (1000, 3)),
            target,
            dynamics=dynamics,
        )
        assert rewards.shape == (1000,) and rewards.min() >= 0 and rewards.max() <= REWARD_MAX


@pytest.mark.parametrize("dynamics, yaw_costs", [("udacity", False), ("rigid_body", True)])
def test_the_yaw_term_is_paid_on_the_rigid_body_only(dynamics, yaw_costs):
    """The Udacity simulator has no yaw moment (no policy changes its yaw), so its tasks pay no yaw term."""
    yawed = TakeoffTask(init_pose=[0, 0, 10, 0, 0, 0.5], dynamics=dynamics)
    facing = TakeoffTask(init_pose=[0, 0, 10, 0, 0, 0.0], dynamics=dynamics)
    assert (yawed.get_reward() < facing.get_reward()) == yaw_costs
    assert facing.get_reward() == pytest.approx(REWARD_MAX)


def test_observation_wraps_the_udacity_angles():
    pose = np.array([1, 2, 3, 2 * np.pi - 0.1, 0.2, 0])
    state = takeoff_observation(pose, np.zeros(3), np.zeros(3), np.array([0, 0, 10.0]))
    np.testing.assert_allclose(state[6:9], [-0.1, 0.2, 0], atol=1e-12)


def test_observation_has_a_fine_bounded_copy_of_the_position_error():
    target = np.array([0, 0, 10.0])
    near = takeoff_observation(np.array([0.05, -0.1, 10.3, 0, 0, 0]), np.zeros(3), np.zeros(3), target)
    np.testing.assert_allclose(near[:3], [0.02, -0.04, 0.12])  # in units of 2.5 m
    np.testing.assert_allclose(near[12:], [0.25, -0.5, 1.0])  # in units of 0.2 m, clipped to [-1, 1]
    on_the_ground = takeoff_observation(np.zeros(6), np.zeros(3), np.zeros(3), target)
    np.testing.assert_allclose(on_the_ground[[2, 14]], [-4.0, -1.0])


def test_a_crash_is_terminated_and_stops_sub_stepping():
    task = Task(np.zeros(6))
    task.reset()
    _, reward, done = task.step([300] * 4)  # below hover, on the ground: the z = 0 bound
    assert done and task.terminated and not task.truncated
    assert task.sim.time == pytest.approx(task.sim.dt)  # one sub-step, not three
    assert 0 <= reward <= REWARD_MAX


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
    clipped, reference = Task(np.zeros(6)), Task(np.zeros(6))
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
    singles = [
        Task(init_pose=vector.sim.init_pose[i], init_velocities=vector.sim.init_velocities[i], runtime=1.0)
        for i in range(4)
    ]
    for i, task in enumerate(singles):
        np.testing.assert_array_equal(task.reset(), states[i])
    actions = np.array([[300.0] * 4, [450.0] * 4, [900.0] * 4, [420, 430, 440, 450]])
    for _ in range(20):
        next_states, rewards, terminated, truncated = vector.step(actions)  # unpacks as it always did
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


def fly_task(task, controller):
    """Fly a task to its end with ``controller(task) -> rotor speeds``; returns the altitudes."""
    task.reset()
    altitudes, done = [], False
    while not done:
        _, _, done = task.step(controller(task))
        altitudes.append(task.sim.pose[2])
    return np.array(altitudes)


def test_success_is_take_off_then_hold():
    from quadcopter.controllers import PDAltitudeController

    pd = PDAltitudeController()
    hold = Task(np.zeros(6))
    fly_task(hold, lambda task: pd.act(task.sim))
    assert hold.truncated and hold.held and hold.success  # climbs, then holds 10 m to the 10 s limit

    # Crosses 10 m at about t = 5 s and falls: the old rule's "success" is not one now.
    climb = PDAltitudeController(kp=0.8, kd=1.0)
    passing = Task(np.zeros(6))
    altitudes = fly_task(passing, lambda task: climb.act(task.sim) if task.sim.time < 5.2 else np.zeros(4))
    assert abs(altitudes[int(5.0 / 0.06)] - 10.0) < 1.0
    assert passing.terminated and not passing.success

    # Above the target at the end, within 1 m of it at t = 5 s: not held.
    overshoot = PDAltitudeController(target_z=14.0, kp=0.8, kd=1.0)
    high = Task(np.zeros(6))
    fly_task(high, lambda task: overshoot.act(task.sim))
    assert high.truncated and not high.held and not high.success

    # Hovering tilted by 0.35 rad (over the 0.3 rad limit) at the target: not held.
    tilted = HoverTask(init_pose=[0, 0, 10, 0.35, 0, 0], runtime=6.0)
    fly_task(tilted, lambda task: np.full(4, hover_rotor_speed()))
    assert not tilted.held and not tilted.success

    np.testing.assert_array_equal(
        takeoff_success(np.array([True, True, False]), np.array([True, False, True])), [True, False, False]
    )
