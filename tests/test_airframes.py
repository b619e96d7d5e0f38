"""Airframes: the rigid body flies the Udacity quadcopter (unchanged) or a Crazyflie 2.x, on every path; the
action range follows the airframe; ``evaluate --sweep`` flies scaled bodies and delayed actions."""

import json

import numpy as np
import pytest
import tensorflow as tf

from quadcopter import PhysicsSim, VectorPhysicsSim
from quadcopter import dynamics as physics
from quadcopter.cli import main
from quadcopter.dynamics import AIRFRAMES, CRAZYFLIE_AIRFRAME, UDACITY_AIRFRAME
from quadcopter.evaluation import delayed, evaluate_actor
from quadcopter.robustness import parse_sweep, sweep
from quadcopter.settings import TrainSettings
from quadcopter.task_specs import FlightTask
from quadcopter.tasks import TakeoffTask, to_rotor_speeds
from quadcopter.tensor_task import numpy_starts, sim_step
from quadcopter.vector_task import VectorTask


def test_the_udacity_airframe_is_the_original_constants():
    body = UDACITY_AIRFRAME
    assert body.mass == physics.MASS and body.inertia == physics.MOMENTS_OF_INERTIA
    assert body.areas == physics.AREAS and body.torque_per_thrust == physics.K_Q
    assert body.hover_rotor_speed() == physics.hover_rotor_speed() and body.max_rotor_speed == 900.0
    rng = np.random.default_rng(3)
    state = [tuple(rng.uniform(-2, 2, 64) for _ in range(k)) for k in (6, 3, 3)]
    rotors = tuple(rng.uniform(0, 900, 64) for _ in range(4))
    default = physics.rigid_body_step(*state, rotors, physics.ARRAY_OPS)
    explicit = physics.rigid_body_step(*state, rotors, physics.ARRAY_OPS, UDACITY_AIRFRAME)
    for a, b in zip(default, explicit):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_the_crazyflie_hovers_at_its_hover_speed_and_falls_below_it():
    body = CRAZYFLIE_AIRFRAME
    hover = body.hover_rotor_speed()
    assert 235 < hover < 245 and 355 < body.max_rotor_speed < 365  # 14,500 rpm and 21,700 rpm
    # 4 kf n^2 = m g at hover, with kf = 3.16e-10 N/rpm^2 (gym-pybullet-drones' cf2x.urdf)
    assert 4 * 3.16e-10 * (60 * hover) ** 2 == pytest.approx(0.027 * 9.81, rel=1e-9)
    for speed, direction in ((hover, 0.0), (0.95 * hover, -1.0), (1.05 * hover, 1.0)):
        sim = PhysicsSim([0, 0, 10, 0, 0, 0], runtime=1.0, dynamics="rigid_body", airframe="crazyflie")
        for _ in range(50):
            sim.next_timestep([speed] * 4)
        assert np.sign(round(sim.pose[2] - 10.0, 6)) == direction
        assert sim.mass == 0.027 and np.allclose(sim.moments_of_inertia, (1.4e-5, 1.4e-5, 2.17e-5))


def test_a_body_other_than_the_udacity_one_needs_the_rigid_body():
    with pytest.raises(ValueError, match="the udacity dynamics fly the original quadcopter only; airframe 'crazyflie'"):
        PhysicsSim(dynamics="udacity", airframe="crazyflie")
    with pytest.raises(ValueError, match=r"airframe must be one of \['udacity', 'crazyflie'\]; got 'tello'"):
        VectorPhysicsSim(np.zeros((2, 6)), dynamics="rigid_body", airframe="tello")
    with pytest.raises(ValueError, match="needs dynamics='rigid_body'"):
        TrainSettings(airframe="crazyflie").validate()
    with pytest.raises(ValueError, match="task 'land' pays for its rotor speeds"):
        TrainSettings(task="land", airframe="crazyflie", dynamics="rigid_body").validate()
    TrainSettings(airframe="crazyflie", dynamics="rigid_body").validate()


@pytest.mark.parametrize("name", list(AIRFRAMES))
def test_the_three_paths_fly_each_airframe_alike(name):
    """PhysicsSim (one), VectorPhysicsSim (N) and the fused path's sim_step (tensors, compiled) agree."""
    rng = np.random.default_rng(5)
    n = 8
    body = AIRFRAMES[name]
    pose = np.c_[rng.uniform(-1, 1, (n, 2)), rng.uniform(5, 15, n), rng.uniform(-0.2, 0.2, (n, 3))]
    velocity, rates = rng.uniform(-1, 1, (n, 3)), rng.uniform(-0.3, 0.3, (n, 3))
    vector = VectorPhysicsSim(pose, velocity, rates, runtime=1e9, dynamics="rigid_body", airframe=name)
    scalar = PhysicsSim(pose[0], velocity[0], rates[0], runtime=1e9, dynamics="rigid_body", airframe=name)
    step = tf.function(lambda s, r: sim_step(s, r, "rigid_body", body), jit_compile=True)
    state = tf.constant(numpy_starts(pose, velocity, rates))
    hover = body.hover_rotor_speed()
    for _ in range(100):
        speeds = rng.uniform(0.97 * hover, 1.03 * hover, (n, 4))
        vector.next_timestep(speeds)
        scalar.next_timestep(speeds[0])
        state, _ = step(state, tf.constant(speeds))
    expected = np.c_[vector.pose, vector.v, vector.angular_v]
    np.testing.assert_array_equal(np.r_[scalar.pose, scalar.v, scalar.angular_v], expected[0])
    np.testing.assert_allclose(state.numpy(), expected, rtol=1e-9, atol=1e-9)
    assert np.max(np.abs(expected[:, 2] - pose[:, 2])) > 0.05  # they flew


def test_the_action_range_follows_the_airframe():
    """The Udacity quadcopter's actions span [0, 900] rev/s; the Crazyflie's [176, 362], whose middle is 1.11
    times its hover speed as the Udacity one's is (450 against 404): an untrained actor climbs on both."""
    envs = VectorTask(3, np.random.default_rng(0), dynamics="rigid_body", airframe="crazyflie")
    task = TakeoffTask(dynamics="rigid_body", airframe="crazyflie", seed=0)
    low, high = CRAZYFLIE_AIRFRAME.min_rotor_speed, CRAZYFLIE_AIRFRAME.max_rotor_speed
    assert (envs.action_low, envs.action_high) == (task.action_low, task.action_high) == (low, high)
    assert (TakeoffTask().action_low, TakeoffTask().action_high) == (0.0, 900.0)
    for body in AIRFRAMES.values():
        middle = (body.min_rotor_speed + body.max_rotor_speed) / 2
        assert middle / body.hover_rotor_speed() == pytest.approx(450 / UDACITY_AIRFRAME.hover_rotor_speed())
    assert float(to_rotor_speeds(np.float64(1.0), high, low)) == high
    assert float(to_rotor_speeds(np.float64(-1.0), high, low)) == low
    envs.reset()
    envs.step(np.full((3, 4), 2_000.0))  # clipped to the Crazyflie's range: a climb, not an error
    assert np.all(envs.sim.v[:, 2] > 0)
    with pytest.raises(ValueError, match=r"clipped to \[175.66.*, 361.89.*\] rev/s"):
        task.reset()
        task.step([np.nan] * 4)


def test_delayed_actions_come_that_many_steps_late():
    calls = iter(np.arange(10.0))
    act = delayed(lambda states: np.full((1, 4), next(calls)), 2)
    got = [act(None)[0, 0] for _ in range(5)]
    assert got == [0.0, 0.0, 0.0, 1.0, 2.0]  # the first action until the delay has passed, then 2 late
    with pytest.raises(ValueError, match=r"delay must be an integer number of agent steps in \[0, 10\]; got 11"):
        delayed(lambda states: states, 11)


def test_a_sweep_parses_its_values_and_refuses_others():
    assert parse_sweep("mass=0.8:1.2") == ("mass", [0.8, 0.9, 1.0, 1.1, 1.2])
    assert parse_sweep("delay=0:2") == ("delay", [0.0, 1.0, 2.0])
    assert parse_sweep("inertia=0.5:1.5:3") == ("inertia", [0.5, 1.0, 1.5])
    for bad, message in (
        ("wind=0:1", "PARAMETER one of"),
        ("mass=0.8", "PARAMETER=LOW:HIGH"),
        ("mass=1.2:0.8", "0.1 <= LOW <= HIGH <= 10"),
        ("delay=0:1.5", "whole agent steps"),
        ("thrust=a:b", "needs numbers"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_sweep(bad)


def test_a_heavier_body_needs_faster_rotors_and_the_sweep_sees_it():
    """A controller that spins the nominal hover speed holds 10 m on the nominal body, sinks on a heavier one
    and climbs on a lighter one; a PD on the altitude that believes in the nominal hover speed settles below
    the target on a heavier body and above it on a lighter one, and the sweep's hold error shows it."""
    hover = UDACITY_AIRFRAME.hover_rotor_speed()

    def constant(states):
        return np.full((len(states), 4), hover)

    def altitude_pd(states):  # the observation: z error / 2.5 m at index 2, v_z / 2 m/s at index 5
        accel = 4.0 * (-2.5 * states[:, 2]) - 4.0 * (2.0 * states[:, 5])
        speed = hover * np.sqrt(np.maximum(0.0, (9.81 + accel) / 9.81))
        return np.repeat(speed[:, None], 4, axis=1)

    task = FlightTask()
    starts = (np.tile([0, 0, 10.0] + [0.0] * 9, (4, 1)), np.tile([0, 0, 10.0], (4, 1)))
    common = dict(starts=starts, dynamics="rigid_body", runtime=2.0, task=task)
    heavy = evaluate_actor(constant, airframe=UDACITY_AIRFRAME.scaled(mass=1.2), **common)
    light = evaluate_actor(constant, airframe=UDACITY_AIRFRAME.scaled(mass=0.8), **common)
    nominal = evaluate_actor(constant, **common)
    assert heavy["final_z"].max() < 9.5 < 10.5 < light["final_z"].min()
    assert np.allclose(nominal["final_z"], 10.0, atol=1e-6)
    settings = {"dynamics": "rigid_body", "airframe": "udacity", "action_repeat": 3, "runtime": 10.0}
    table = sweep(altitude_pd, "mass", [0.7, 1.0, 1.3], settings, task, episodes=4)
    assert list(table["value"]) == [0.7, 1.0, 1.3] and list(table["episodes"]) == [4, 4, 4]
    errors = table["hold_error_m"]
    assert errors[1] < 0.05 < min(errors[0], errors[2])  # settled on the nominal body, off on the others
    assert table["success_rate"][1] == 1.0


@pytest.mark.slow
def test_evaluate_sweep_writes_its_table_and_plot_and_keeps_them(tmp_path, capsys):
    run = tmp_path / "run"
    flags = ["--env-steps", "640", "--eval-episodes", "2", "--no-progress", "--numpy-path", "--test-every", "0"]
    assert main(["train", *flags, "--dynamics", "rigid_body", "--airframe", "crazyflie", "--out", str(run)]) == 0
    assert json.loads((run / "settings.json").read_text())["airframe"] == "crazyflie"
    assert main(["evaluate", str(run), "--episodes", "3", "--sweep", "thrust=0.9:1.1:3"]) == 0
    table = (run / "robustness_thrust.csv").read_text().splitlines()
    assert table[0] == "parameter,value,success_rate,long_hold_success_rate,hold_error_m,episodes" and len(table) == 4
    assert (run / "robustness_thrust.png").stat().st_size > 10_000
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", str(run), "--episodes", "3", "--sweep", "thrust=0.9:1.1:3"])
    assert exit_.value.code == 2 and "--overwrite" in capsys.readouterr().err
