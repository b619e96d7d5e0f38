"""The TensorFlow dynamics and takeoff task agree with the numpy ones they are written from."""

import numpy as np
import pytest
import tensorflow as tf

from quadcopter import VectorPhysicsSim, hover_rotor_speed
from quadcopter import dynamics as physics
from quadcopter.tensor_task import TENSOR_OPS, initial_state, numpy_starts, sim_step, takeoff_step
from quadcopter.vector_task import VectorTakeoffTask


def random_starts(rng, n):
    pose = np.c_[rng.uniform(-1, 1, (n, 2)), rng.uniform(5, 15, n), rng.uniform(-0.3, 0.3, (n, 3))]
    return pose, rng.uniform(-1, 1, (n, 3)), rng.uniform(-0.3, 0.3, (n, 3))


@pytest.mark.slow
@pytest.mark.parametrize("dynamics", physics.DYNAMICS)
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "xla"])
def test_tensor_ops_step_matches_the_numpy_step_for_250_steps(dynamics, compiled):
    """udacity_step / rigid_body_step on float64 tensors (N,) with TENSOR_OPS, eager and under XLA."""
    rng = np.random.default_rng(11)
    n = 32
    pose, velocity, rates = random_starts(rng, n)
    vector = VectorPhysicsSim(pose, velocity, rates, runtime=1e9, dynamics=dynamics)
    step = tf.function(sim_step, jit_compile=True) if compiled else sim_step
    state = tf.constant(numpy_starts(pose, velocity, rates))
    worst = moved = 0.0
    for _ in range(250):
        speeds = rng.uniform(395, 415, (n, 4))
        speeds[0] = 0.0  # rotors off: zero thrust, in both
        vector.next_timestep(speeds)
        state, _ = step(state, tf.constant(speeds), dynamics)
        expected = np.c_[vector.pose, vector.v, vector.angular_v]
        got = state.numpy()
        # A tumbling udacity row overflows to inf and nan (its rotor inflow anti-damps rotation):
        # the same rows must do so in both.
        finite = np.isfinite(expected)
        np.testing.assert_array_equal(np.isfinite(got), finite)
        moved = max(moved, np.max(np.abs(expected[:, 2] - pose[:, 2])))
        difference = np.abs(got[finite] - expected[finite])
        worst = max(worst, np.max(difference / np.maximum(1.0, np.abs(expected[finite]))))
    assert worst <= 1e-9
    assert moved > 1.0  # real flights, not two resting states compared


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "xla"])
def test_tensor_ops_sine_cosine_and_wrap_agree_with_numpy(compiled):
    """TENSOR_OPS computes sin and cos itself (XLA's float64 ones are slow on a CPU): they must agree
    with numpy's to round-off, multiples of pi/2 and large angles included; mod_2pi must wrap like
    the numpy simulator's, including angles far outside [-2 pi, 4 pi)."""
    x = np.concatenate(
        [
            np.linspace(-4 * np.pi, 4 * np.pi, 100_001),
            np.arange(-40, 41) * (np.pi / 2),
            np.linspace(-1e5, 1e5, 100_001),
            [0.0, -0.0, 1e-300, -1e-12],
        ]
    )
    ops = TENSOR_OPS

    def evaluate(v):
        return ops.sin(v), ops.cos(v), ops.mod_2pi(v)

    function = tf.function(evaluate, jit_compile=True) if compiled else evaluate
    sin, cos, wrapped = (t.numpy() for t in function(tf.constant(x)))
    assert np.max(np.abs(sin - np.sin(x))) <= 1.2e-16
    assert np.max(np.abs(cos - np.cos(x))) <= 1.2e-16
    expected = physics.ARRAY_OPS.mod_2pi(x.copy())
    inside = (x >= -2 * np.pi) & (x < 4 * np.pi)
    np.testing.assert_array_equal(wrapped[inside], expected[inside])  # the same sums, the same bits
    assert np.max(np.abs(wrapped - expected)) <= 1e-16 * 1e5  # round-off of |x| up to 1e5 rad


@pytest.mark.slow
@pytest.mark.parametrize("dynamics", physics.DYNAMICS)
def test_takeoff_step_matches_vector_takeoff_task(dynamics):
    """Same starts and actions: the same observations, rewards, ends, restarts and episode summaries."""
    rng = np.random.default_rng(5)
    n = 24
    runtime = 6.0  # long enough for the hold rule, judged from 5 s on
    envs = VectorTakeoffTask(n, np.random.default_rng(9), runtime=runtime, dynamics=dynamics, air_starts=0.5)

    def numpy_task_starts():
        sim = envs.sim
        return (
            tf.constant(numpy_starts(sim.init_pose, sim.init_velocities, sim.init_angle_velocities)),
            tf.constant(envs.in_air),
        )

    state = initial_state(*numpy_task_starts())
    step = tf.function(
        lambda s, a, starts, in_air: takeoff_step(s, a, starts, in_air, runtime=runtime, dynamics=dynamics),
        jit_compile=True,
    )
    ended_rows = terminated_rows = truncated_rows = successes = 0
    for _ in range(250):
        # Even rows: a PD law on altitude with equal rotors (climbs and holds level); odd rows: hover
        # speeds with random differences (they tumble); now and then a row with its rotors off.
        # Crashes, holds and time limits all happen.
        z_error, v_z = envs.states[:, 2] * 10.0, envs.states[:, 5] * 5.0
        thrust = np.clip((9.81 - 4.0 * z_error - 4.0 * v_z) / 9.81, 0.0, None)
        actions = np.repeat((hover_rotor_speed() * np.sqrt(thrust))[:, None], 4, axis=1)
        actions[1::2] = hover_rotor_speed() + rng.uniform(-3, 6, (n // 2, 4))
        actions[rng.random(n) < 0.01] = 0.0
        step_result = envs.step(actions)
        next_states, rewards, terminated, truncated = step_result
        finished = envs.pop_finished()
        # The rows that ended restart where the numpy task restarted them.
        state, result = step(state, tf.constant(actions), *numpy_task_starts())
        np.testing.assert_allclose(result.next_states.numpy(), next_states, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(result.rewards.numpy(), rewards, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(result.terminated.numpy(), terminated)
        np.testing.assert_array_equal(result.truncated.numpy(), truncated)
        np.testing.assert_allclose(result.states.numpy(), step_result.states, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(step_result.next_states, next_states)
        ended = np.flatnonzero(result.ended.numpy())
        assert [e["env"] for e in finished] == list(ended)
        for e in finished:
            i = e["env"]
            assert result.episode_returns.numpy()[i] == pytest.approx(e["episode_return"], rel=1e-9)
            assert result.episode_lengths.numpy()[i] == e["length"]
            assert result.final_z.numpy()[i] == pytest.approx(e["final_z"], rel=1e-9, abs=1e-9)
            assert result.success.numpy()[i] == e["success"]
            assert result.air_start.numpy()[i] == e["air_start"]
            successes += e["success"]
        ended_rows += len(ended)
        terminated_rows += terminated.sum()
        truncated_rows += truncated.sum()
    # Both kinds of end happened, some held the target, and rows restarted several times.
    assert terminated_rows > 0 and truncated_rows > 0 and successes > 0 and ended_rows > n
