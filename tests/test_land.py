"""The landing: its ground contact rule on both sides of each limit, resting with the rotors slowed, and the
same touchdowns, rests and crashes on every path (the Udacity loop, the numpy vector path, the fused path)."""

import numpy as np
import pytest
import tensorflow as tf
from test_task_specs import numpy_episodes, scalar_episodes, tensor_episodes

from quadcopter.controllers import ConstantController
from quadcopter.dynamics import DYNAMICS, hover_rotor_speed
from quadcopter.flight import fly
from quadcopter.sim import PhysicsSim
from quadcopter.task_specs import (
    PAD_RADIUS,
    REST_STEPS,
    SLOW_ROTORS,
    TOUCHDOWN_SLIDE,
    TOUCHDOWN_SPEED,
    TOUCHDOWN_TILT,
    Land,
    NumpyDraw,
    land_velocity,
    rest_worth,
)
from quadcopter.tensor_task import TENSOR_MATH
from quadcopter.vector_task import VectorTask

HOVER = hover_rotor_speed()


def touching(vz=0.0, vx=0.0, tilt=0.0, z=0.0):
    """One physics row (12,) as a step leaves it on the ground: z clamped to 0, the given speeds and roll."""
    row = np.zeros(12)
    row[[0, 1, 2, 3, 5, 6, 8]] = [0.2, -0.1, z, tilt, 0.4, vx, vz]
    return row


@pytest.mark.parametrize("xp", [np, TENSOR_MATH], ids=["numpy", "tensorflow"])
def test_the_contact_rule_tells_a_touchdown_from_a_crash_on_both_sides_of_each_limit(xp):
    just_under, just_over = 0.95, 1.05
    rows = np.array(
        [
            touching(vz=-just_under * TOUCHDOWN_SPEED),
            touching(vz=-just_over * TOUCHDOWN_SPEED),
            touching(vx=just_under * TOUCHDOWN_SLIDE),
            touching(vx=just_over * TOUCHDOWN_SLIDE),
            touching(tilt=just_under * TOUCHDOWN_TILT),
            touching(tilt=-just_over * TOUCHDOWN_TILT),
            touching(tilt=2 * np.pi - just_under * TOUCHDOWN_TILT),  # the Udacity angles live in [0, 2 pi)
            touching(vz=-5.0, z=140.0),  # not the ground: a bound elsewhere is a crash at any speed
        ]
    )
    touched_not = np.ones(len(rows), dtype=bool)
    touched_not[0] = False  # a row that touched nothing keeps its state and does not crash
    mask = touched_not if xp is np else tf.constant(touched_not)
    physics, crashed = Land().contact(xp.asarray(rows), mask, xp)
    physics, crashed = np.asarray(physics), np.asarray(crashed)
    assert crashed.tolist() == [False, True, False, True, False, True, False, True]
    np.testing.assert_array_equal(physics[0], rows[0])
    for i in (2, 4, 6):  # a touchdown rests: on the ground, level and still, x, y and yaw kept
        np.testing.assert_array_equal(physics[i], [0.2, -0.1, 0, 0, 0, 0.4, 0, 0, 0, 0, 0, 0])
    for i in (1, 3, 5, 7):  # a crash is left as the simulator made it (the episode ends)
        np.testing.assert_array_equal(physics[i], rows[i])


def test_resting_needs_the_rotors_slowed_and_the_pad_and_a_fast_fall_is_a_crash():
    """Episodes of 12 s judged from 10 s: the numpy path (the other paths agree, below)."""
    task = Land()
    starts = np.zeros((6, 12))
    starts[:, 2] = [0.3, 0.0, 0.0, 0.0, 0.0, 3.0]
    starts[:, 8] = [-0.5, 0.0, 0.0, 0.0, 0.0, 0.0]
    starts[4, 0] = PAD_RADIUS + 0.1  # resting beside the pad
    speeds = np.zeros((6, 4))
    speeds[0] = 0.97 * HOVER  # settles onto the ground slowly, then (below) cuts its rotors
    speeds[2] = 0.99 * SLOW_ROTORS * HOVER  # rests, rotors just slow enough
    speeds[3] = 1.01 * SLOW_ROTORS * HOVER  # rests (the rotors do not carry the weight), but too fast
    speeds[1, 0] = 1.2 * HOVER  # one rotor fast, the others off: too little thrust to lift, never slow enough

    envs = VectorTask(6, np.random.default_rng(0), 12.0, task=task)
    envs.restart_from(starts, np.zeros((6, 3)))
    first = {}
    for step in range(250):
        action = speeds.copy()
        if step >= 20:
            action[0] = 0.0
        envs.step(action)
        for episode in envs.pop_finished():
            first.setdefault(episode["env"], episode)
    assert sorted(first) == list(range(6))
    assert [first[i]["success"] for i in range(6)] == [True, False, True, False, False, False]
    assert first[5]["length"] < 20 and first[5]["final_z"] == 0.0  # fell 3 m with the rotors off: a crash
    assert all(first[i]["length"] == 201 for i in (0, 2, 3, 4))  # rested to the time limit
    # Row 1's lone rotor tips the Udacity model over (its quirk squares the angular acceleration): a crash.


def ground_starts_and_speeds(steps=40):
    """Starts (6, 12) near the ground and rotor speeds (steps, 6, 4) that give each side of the contact rule."""
    starts = np.zeros((6, 12))
    starts[:, 2] = [0.1, 0.3, 0.0, 0.0, 0.2, 0.2]
    starts[:, 8] = [-0.3, -3.0, 0.0, 0.0, -0.2, -0.2]
    starts[4, 6] = 1.5  # sliding: a crash
    starts[5, 3] = 0.15  # tilted but within the limit
    speeds = np.zeros((steps, 6, 4)) + 0.9 * HOVER
    speeds[:, 2] = 0.0  # rests with its rotors off
    speeds[:, 3] = 1.1 * HOVER  # lifts off the ground
    return starts, speeds


@pytest.mark.slow
@pytest.mark.parametrize("training_ends", [False, True], ids=["flies-on", "training"])
@pytest.mark.parametrize("dynamics", DYNAMICS)
def test_the_three_paths_land_rest_and_crash_alike(dynamics, training_ends):
    import test_task_specs

    starts, speeds = ground_starts_and_speeds()
    goals = np.zeros((6, 3))
    vector, vector_success = numpy_episodes(Land(), dynamics, starts, goals, speeds, training_ends)
    tensor, tensor_success = tensor_episodes(Land(), dynamics, starts, goals, speeds, training_ends)
    scalar, scalar_success = scalar_episodes(Land(), dynamics, starts, goals, speeds, training_ends)
    assert vector_success == tensor_success == scalar_success
    terminated = np.array([row[2] for row in vector])[:13]  # the first episodes (0.8 s: 14 agent steps)
    assert terminated[:, 1].any() and terminated[:, 4].any()  # the hard fall and the slide crash
    heights = np.array([row[0][:, 2] for row in vector])[:13]  # the observation's z error to the pad, 0 at rest
    if training_ends:  # training: the first step from rest ends it, whether it stays (0, 2, 5) or lifts off (3)
        assert all(terminated[:, i].any() for i in (0, 2, 5)) and terminated[0, [2, 3]].all()
        assert all(heights[np.argmax(terminated[:, i]), i] == 0.0 for i in (0, 2, 5)) and heights[0, 3] > 0.0
    else:  # the evaluation: the gentle ones rest (or lift off) and go on
        assert not terminated[:, [0, 2, 3, 5]].any()
        assert np.all(heights[-1, [0, 2, 5]] == 0.0) and heights[-1, 3] > 0.0  # touched down and resting; lifted off
    flying = np.ones(6, dtype=bool)
    for a, b in zip(vector, tensor):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x[flying], y[flying], rtol=1e-9, atol=1e-9)
        flying &= ~(a[2] + a[3]).astype(bool)
    for i, rows in enumerate(scalar):
        for k, (next_state, reward, terminated_k, truncated_k) in enumerate(rows):
            np.testing.assert_allclose(next_state, vector[k][0][i], rtol=1e-12, atol=1e-12)
            assert reward == pytest.approx(vector[k][1][i], rel=1e-12, abs=1e-12)
            assert (terminated_k, truncated_k) == (bool(vector[k][2][i]), bool(vector[k][3][i]))
    assert test_task_specs.RUNTIME < 1.0  # the helpers' episodes end on time: the comparison covers the ends


def test_a_flight_of_the_landing_goes_on_after_a_touchdown():
    """``fly`` (simulate, the run's flight plots) applies the task's contact rule; without a task a touch ends
    the flight, as always."""
    controller = ConstantController([0.97 * HOVER] * 4)
    landed = fly(PhysicsSim([0, 0, 0.3, 0, 0, 0], [0, 0, -0.5], runtime=3.0), controller, Land())
    assert landed["time"].iloc[-1] == pytest.approx(3.0, abs=0.03) and landed["z"].iloc[-1] == 0.0
    ended = fly(PhysicsSim([0, 0, 0.3, 0, 0, 0], [0, 0, -0.5], runtime=3.0), controller)
    assert ended["time"].iloc[-1] < 1.0


def test_the_landing_starts_where_its_specification_says():
    task = Land()
    starts, goals = task.test_starts(NumpyDraw(np.random.default_rng(0)), 2000)
    assert (starts[:, 2].min(), starts[:, 2].max()) == pytest.approx((3.0, 15.0), abs=0.05)
    assert np.abs(starts[:, 0:2]).max() <= 3.0 and np.abs(starts[:, 6:9]).max() <= 1.0
    assert np.all(goals == 0.0)
    train, _, _ = task.train_starts(NumpyDraw(np.random.default_rng(0)), 2000)
    resting = train[:, 2] == 0.0
    assert 0.15 < resting.mean() < 0.25 and np.abs(train[resting, 0:2]).max() <= PAD_RADIUS
    assert np.all(train[resting, 3:5] == 0.0) and np.all(train[resting, 6:] == 0.0)  # level and still
    assert train[resting, 5].min() < -3.0 and train[resting, 5].max() > 3.0  # facing any way
    assert train[~resting, 2].min() >= 0.5


def test_a_training_landing_ends_at_rest_paid_for_the_rest_and_the_evaluation_flies_on():
    """Training (``training_ends``): the touchdown's step goes on; the first step taken from rest ends the episode
    (terminated), whether it stays at rest or lifts off, and pays its rest worth (rest_worth) for REST_STEPS
    more simulator steps; slower rotors at rest are worth more. The evaluation's VectorTask (the default) flies
    the same steps on."""
    starts = np.zeros((5, 12))
    starts[3, 2], starts[3, 8] = 0.01, -0.3  # 1 cm up, coming down at 0.3 m/s: a gentle touchdown
    speeds = np.array([[0.0] * 4, [0.3 * HOVER] * 4, [0.9 * HOVER] * 4, [0.9 * HOVER] * 4, [1.1 * HOVER] * 4])
    training = VectorTask(5, np.random.default_rng(0), 12.0, task=Land(), training_ends=True)
    evaluation = VectorTask(5, np.random.default_rng(0), 12.0, task=Land())
    for envs in (training, evaluation):
        envs.restart_from(starts, np.zeros((5, 3)))
    trained, flown = training.step(speeds), evaluation.step(speeds)
    assert trained.terminated.tolist() == [True, True, True, False, True] and not flown.terminated.any()
    assert trained.next_states[3, 15] == 1.0  # the touchdown: resting now, the episode goes on
    assert flown.next_states[4, 15] == 0.0  # row 4's rotors lifted it off: its training episode ended all the same
    rest = rest_worth(np.zeros((5, 12)), np.zeros((5, 3)), speeds)  # on the pad's centre
    ended = [0, 1, 2, 4]
    np.testing.assert_allclose(trained.rewards[ended] - flown.rewards[ended], REST_STEPS * rest[ended], rtol=1e-12)
    assert trained.rewards[3] == flown.rewards[3]
    assert trained.rewards[0] > trained.rewards[1] > trained.rewards[2] > trained.rewards[4]
    assert [e["success"] for e in training.pop_finished()] == [False] * 4  # judged only by flying on
    trained = training.step(speeds[3:4].repeat(5, axis=0))
    assert trained.terminated[3] and trained.rewards[3] > REST_STEPS * rest[3]  # the next step at rest ends it
    assert evaluation.pop_finished() == []


def test_the_glide_path_touches_down_on_the_pad_well_before_the_rest_is_judged():
    """Followed exactly (Euler steps of 10 ms) from each corner of the evaluation's start box (3 or 15 m up, 3 m
    off the pad on x and y), the velocity the reward asks for (land_velocity) touches down on the pad within
    8.5 s: 1.5 s before the success rule judges the rest (hold_from, 10 s), a margin for an actor that follows
    it a little slower. (The path before 2026-12-07 took 9.9 s from the high corners.)"""
    task = Land()
    corners = np.array([(x, y, z) for x in (-3.0, 3.0) for y in (-3.0, 3.0) for z in (task.low, task.high)])
    physics = np.zeros((len(corners), 12))
    physics[:, 0:3] = corners
    touchdown = np.full(len(corners), np.inf)
    for step in range(1500):  # 15 s
        flying = physics[:, 2] > 0.0
        touchdown[flying] = (step + 1) * 0.01
        physics[flying, 0:3] += 0.01 * land_velocity(physics, np.zeros((len(corners), 3)))[flying]
    assert np.all(physics[:, 2] <= 0.0) and touchdown.max() <= task.hold_from - 1.5
    assert np.hypot(physics[:, 0], physics[:, 1]).max() < PAD_RADIUS / 2


@pytest.mark.parametrize("training_ends", [False, True], ids=["flies-on", "training"])
def test_training_ends_a_landing_that_tilts_past_its_limit_on_every_path(training_ends):
    """Row 0 starts 8 m up rolled past the landing's tilt limit (1 rad), row 1 just inside it (0.9 rad). In training
    row 0's episode ends at its first step (terminated), paid that step's flight reward and nothing more; row 1
    flies on. The evaluation flies both on. The three paths agree."""
    starts = np.zeros((2, 12))
    starts[:, 2], starts[:, 3] = 8.0, [1.2, 0.9]
    goals, speeds = np.zeros((2, 3)), np.full((16, 2, 4), HOVER)  # past the helpers' 0.8 s time limit
    vector, _ = numpy_episodes(Land(), "udacity", starts, goals, speeds, training_ends)
    tensor, _ = tensor_episodes(Land(), "udacity", starts, goals, speeds, training_ends)
    scalar, _ = scalar_episodes(Land(), "udacity", starts, goals, speeds, training_ends)
    assert vector[0][2].tolist() == [float(training_ends), 0.0] and not vector[1][2][1]
    assert Land().tilt_limit == 1.0
    flown, _ = numpy_episodes(Land(), "udacity", starts, goals, speeds, False)
    np.testing.assert_array_equal(vector[0][1], flown[0][1])  # the same reward: the end pays nothing more
    for k, rows in enumerate((slice(None), [1])):  # after its end, row 0 restarts: each path draws its own start
        for x, y in zip(vector[k][:3], tensor[k][:3]):
            np.testing.assert_allclose(x[rows], y[rows], rtol=1e-9, atol=1e-9)
        for i in range(2):
            if k < len(scalar[i]):
                assert scalar[i][k][1] == pytest.approx(vector[k][1][i], rel=1e-12)
                assert scalar[i][k][2] == bool(vector[k][2][i])
    assert len(scalar[0]) == (1 if training_ends else len(scalar[1])) and len(scalar[1]) > 10
