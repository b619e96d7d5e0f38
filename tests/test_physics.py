"""PhysicsSim: the Udacity dynamics against the original-style oracle, the rigid body against hand-computed physics."""

import math
import warnings

import numpy as np
import pytest

from physics_sim import PhysicsSim as UdacityImportedSim
from quadcopter import PhysicsSim, hover_rotor_speed
from quadcopter import dynamics as physics
from quadcopter.reference import ReferencePhysicsSim

STATE = ("pose", "v", "angular_v", "linear_accel", "angular_accels", "prop_wind_speed")


def random_start(rng):
    pose = np.r_[rng.uniform(-1, 1, 2), rng.uniform(5, 15), rng.uniform(-0.3, 0.3, 3)]
    return pose, rng.uniform(-1, 1, 3), rng.uniform(-0.3, 0.3, 3)


def snapshot(sim):
    return {name: np.copy(getattr(sim, name)) for name in STATE + ("time", "done")}


def thrust_at_rest(n):
    return physics.C_T0 * physics.RHO * n * n * physics.PROPELLER_SIZE**4


def test_udacity_import_path_is_the_same_class():
    assert UdacityImportedSim is PhysicsSim


@pytest.mark.parametrize("seed", range(5))
def test_udacity_dynamics_match_the_original_for_250_steps(seed):
    rng = np.random.default_rng(seed)
    start = random_start(rng)
    sim, original = PhysicsSim(*start), ReferencePhysicsSim(*start)
    for _ in range(250):
        speeds = rng.uniform(390, 420, 4)
        assert sim.next_timestep(speeds) == original.next_timestep(speeds)
        for name in STATE:
            ours, theirs = getattr(sim, name), getattr(original, name)
            assert np.max(np.abs(ours - theirs)) <= 1e-11 * max(np.max(np.abs(theirs)), 1e-9), name
        assert sim.time == original.time
    assert sim.done and original.done  # the runtime ended both, on the same step


def test_udacity_keeps_its_quirks():
    # The squared angular acceleration: a pure negative roll moment still raises phi in the first step.
    sim = PhysicsSim(init_pose=[0, 0, 10, 0, 0, 0])
    sim.next_timestep([404, 404, 420, 404])  # T2 > T3: negative roll moment
    assert sim.angular_accels[0] < 0
    assert sim.pose[3] > 0
    # Angles wrap to [0, 2 pi): a few steps later phi turns negative, which wraps to near 2 pi.
    for _ in range(5):
        sim.next_timestep([404, 404, 420, 404])
    assert 6.0 < sim.pose[3] < 2 * math.pi
    # No yaw moment, whatever the rotors do.
    assert sim.angular_accels[2] == 0
    # The drag loses its sign: falling (v_z < 0) the drag still pushes down, so faster than gravity.
    falling = PhysicsSim(init_pose=[0, 0, 100, 0, 0, 0], init_velocities=[0, 0, -10])
    falling.next_timestep([0, 0, 0, 0])
    assert falling.linear_accel[2] < physics.GRAVITY


@pytest.mark.parametrize("dynamics", ["udacity", "rigid_body"])
def test_zero_rotor_speed_gives_zero_thrust_without_warnings(dynamics):
    sim = PhysicsSim(init_pose=[0, 0, 50, 0, 0, 0], init_velocities=[0, 0, 3], dynamics=dynamics)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.next_timestep([0, 0, 0, 0])
    assert np.all(np.isfinite(sim.pose)) and np.all(np.isfinite(sim.v))
    # Only gravity and drag act: no thrust at all.
    assert sim.linear_accel[2] < physics.GRAVITY + 1e-12


def test_rigid_body_free_fall_from_rest_is_gravity_then_sign_correct_drag():
    sim = PhysicsSim(init_pose=[0, 0, 200, 0, 0, 0], dynamics="rigid_body")
    sim.next_timestep([0, 0, 0, 0])
    assert sim.linear_accel == pytest.approx([0, 0, physics.GRAVITY], abs=1e-15)
    assert sim.v[2] == pytest.approx(physics.GRAVITY * physics.DT, rel=1e-15)
    assert sim.pose[2] == pytest.approx(200 + 0.5 * physics.GRAVITY * physics.DT**2, rel=1e-15)
    # Over 2 s the fall follows dv/dt = g + k v^2 (drag up while falling); check against a fine RK4.
    for _ in range(99):
        sim.next_timestep([0, 0, 0, 0])
    k = 0.5 * physics.RHO * physics.AREAS[2] * physics.C_D / physics.MASS
    z, v, h = 200.0, 0.0, 1e-4

    def f(state):
        return np.array([state[1], physics.GRAVITY + k * state[1] ** 2])

    state = np.array([z, v])
    for _ in range(20000):
        a = f(state)
        b = f(state + h / 2 * a)
        c = f(state + h / 2 * b)
        d = f(state + h * c)
        state = state + h / 6 * (a + 2 * b + 2 * c + d)
    assert sim.v[2] == pytest.approx(state[1], rel=0.01)
    assert sim.pose[2] == pytest.approx(state[0], rel=0.001)
    assert sim.v[2] > physics.GRAVITY * 2.0  # slower than a fall without drag


def test_rigid_body_drag_is_odd_in_velocity():
    accels = []
    for velocity in ([3.0, -2.0, 4.0], [-3.0, 2.0, -4.0]):
        sim = PhysicsSim(init_pose=[0, 0, 100, 0, 0, 0], init_velocities=velocity, dynamics="rigid_body")
        sim.next_timestep([0, 0, 0, 0])
        accels.append(sim.linear_accel - [0, 0, physics.GRAVITY])
    assert np.all(accels[0] * [3, -2, 4] < 0)  # drag opposes the motion
    np.testing.assert_allclose(accels[0], -accels[1], rtol=1e-12)


def test_hover_speed_is_about_404_and_holds_altitude_for_5_seconds():
    n = hover_rotor_speed()
    assert n == pytest.approx(404, abs=0.5)
    assert 4 * thrust_at_rest(n) == pytest.approx(physics.MASS * -physics.GRAVITY, rel=1e-12)
    sim = PhysicsSim(init_pose=[0, 0, 10, 0, 0, 0], dynamics="rigid_body")
    while not sim.done:
        sim.next_timestep([n] * 4)
    assert sim.time > 5.0 and not sim.out_of_bounds
    assert abs(sim.pose[2] - 10) < 1e-9
    np.testing.assert_array_equal(sim.pose[3:], 0)


def test_rigid_body_angular_rate_after_one_step_is_torque_over_inertia_times_dt():
    speeds = np.array([400.0, 410.0, 395.0, 420.0])
    thrusts = thrust_at_rest(speeds)  # at rest there is no inflow
    tau = np.array(
        [
            (thrusts[3] - thrusts[2]) * physics.ARM_LENGTH,
            (thrusts[1] - thrusts[0]) * physics.ARM_LENGTH,
            (thrusts[2] + thrusts[3] - thrusts[0] - thrusts[1]) * physics.K_Q,
        ]
    )
    sim = PhysicsSim(init_pose=[0, 0, 10, 0, 0, 0], dynamics="rigid_body")
    sim.next_timestep(speeds)
    np.testing.assert_allclose(sim.angular_v, tau / physics.MOMENTS_OF_INERTIA * physics.DT, rtol=1e-12)
    assert np.all(sim.angular_v != 0)


def test_rigid_body_yaw_comes_from_unequal_rotor_pairs():
    sim = PhysicsSim(init_pose=[0, 0, 10, 0, 0, 0], dynamics="rigid_body")
    sim.next_timestep([400, 400, 410, 410])  # rotors 2 and 3 faster: positive yaw, no roll or pitch
    assert sim.angular_v[0] == 0 and sim.angular_v[1] == 0
    expected = 2 * (thrust_at_rest(410.0) - thrust_at_rest(400.0)) * physics.K_Q / physics.I_Z * physics.DT
    assert sim.angular_v[2] == pytest.approx(expected, rel=1e-12)
    for _ in range(20):
        sim.next_timestep([400, 400, 410, 410])
    assert sim.pose[5] > 0
    assert abs(sim.pose[3]) < 1e-12 and abs(sim.pose[4]) < 1e-12


def test_rigid_body_gyroscopic_coupling():
    p, r = 2.0, 3.0
    sim = PhysicsSim(init_pose=[0, 0, 100, 0, 0, 0], init_angle_velocities=[p, 0, r], dynamics="rigid_body")
    sim.next_timestep([0, 0, 0, 0])  # no thrust: the only pitch torque is the gyroscopic one
    q_dot = (physics.I_Z - physics.I_X) / physics.I_Y * p * r
    assert sim.angular_accels[1] == pytest.approx(q_dot, rel=1e-12)
    assert sim.angular_v[1] == pytest.approx(q_dot * physics.DT, rel=1e-12)


def test_rigid_body_damps_rotation_through_rotor_inflow():
    # The original's inflow signs make a pitch rate grow; the rigid body's make it decay.
    rates = {}
    for dynamics in ("udacity", "rigid_body"):
        sim = PhysicsSim(init_pose=[0, 0, 100, 0, 0, 0], init_angle_velocities=[0, 0.5, 0], dynamics=dynamics)
        sim.next_timestep([hover_rotor_speed()] * 4)
        rates[dynamics] = sim.angular_v[1]
    assert rates["udacity"] > 0.5 > rates["rigid_body"]


def test_rigid_body_angles_wrap_to_minus_pi_pi():
    roll = PhysicsSim(init_pose=[0, 0, 100, 3.1, 0, 0], init_angle_velocities=[5, 0, 0], dynamics="rigid_body")
    roll.next_timestep([0, 0, 0, 0])
    assert -math.pi < roll.pose[3] < -3.0  # rolled past pi
    yaw = PhysicsSim(init_pose=[0, 0, 100, 0, 0, -3.1], init_angle_velocities=[0, 0, -5], dynamics="rigid_body")
    yaw.next_timestep([0, 0, 0, 0])
    assert 3.0 < yaw.pose[5] <= math.pi  # yawed past -pi
    edge = PhysicsSim(init_pose=[0, 0, 100, -math.pi, 0, 0], dynamics="rigid_body")
    edge.next_timestep([0, 0, 0, 0])
    assert edge.pose[3] == pytest.approx(math.pi)


@pytest.mark.parametrize("dynamics", ["udacity", "rigid_body"])
def test_reset_copies_the_initial_state_and_done_stays_set(dynamics):
    init_pose = np.array([0.0, 0.0, 0.1, 0, 0, 0])
    sim = PhysicsSim(init_pose=init_pose, runtime=1.0, dynamics=dynamics)
    sim.pose[2] = 5.0
    assert init_pose[2] == 0.1 and sim.init_pose[2] == 0.1  # no aliasing either way
    sim.reset()
    assert sim.pose[2] == 0.1 and sim.time == 0 and not sim.done
    steps = 1
    while not sim.next_timestep([0, 0, 0, 0]):  # falls onto the ground
        steps += 1
    assert steps == 8  # 0.1 m at g: sqrt(2 * 0.1 / 9.81) = 0.143 s, the 8th step of 0.02 s
    assert sim.pose[2] == 0 and sim.out_of_bounds
    assert sim.next_timestep([900] * 4)  # done stays set until reset
    sim.reset()
    assert not sim.done and not sim.out_of_bounds
    np.testing.assert_array_equal(sim.linear_accel, 0)
    np.testing.assert_array_equal(sim.prop_wind_speed, 0)


def test_start_on_the_ground_below_hover_ends_on_the_first_step():
    sim = PhysicsSim(init_pose=[0, 0, 0, 0, 0, 0])
    assert sim.next_timestep([350] * 4)
    assert sim.time == pytest.approx(physics.DT) and sim.out_of_bounds


def test_time_limit_ends_the_episode_without_a_bound():
    sim = PhysicsSim(init_pose=[0, 0, 10, 0, 0, 0], runtime=0.1)
    steps = 0
    while not sim.next_timestep([hover_rotor_speed()] * 4):
        steps += 1
    assert sim.time > 0.1 and not sim.out_of_bounds and steps == 5


@pytest.mark.parametrize(
    "bad",
    [
        [400, 400, 400],
        [400, 400, 400, -1],
        [400, 400, 400, np.nan],
        [400, 400, 400, np.inf],
        [[400, 400, 400, 400]],
        "fast",
    ],
)
@pytest.mark.parametrize("dynamics", ["udacity", "rigid_body"])
def test_bad_rotor_speeds_raise_and_leave_the_state_unchanged(bad, dynamics):
    sim = PhysicsSim(init_pose=[0, 0, 10, 0.1, 0, 0], init_velocities=[1, 0, 0], dynamics=dynamics)
    sim.next_timestep([400, 401, 402, 403])
    before = snapshot(sim)
    with pytest.raises(ValueError, match=r"rotor_speeds must be values in \[0, 10,000\] rev/s"):
        sim.next_timestep(bad)
    after = snapshot(sim)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(init_pose=[0, 0, 10]), r"init_pose must have shape \(6,\)"),
        (dict(init_velocities=[0, 0]), r"init_velocities must have shape \(3,\)"),
        (dict(init_angle_velocities=np.zeros((3, 1))), r"init_angle_velocities must have shape \(3,\)"),
        (dict(init_pose=[0, 0, np.nan, 0, 0, 0]), r"init_pose must be finite"),
        (dict(runtime=-1), r"runtime must be a finite number of seconds > 0"),
        (dict(dynamics="newton"), r"dynamics must be one of \('udacity', 'rigid_body'\)"),
    ],
)
def test_bad_constructor_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PhysicsSim(**kwargs)
