"""The vectorised takeoff in TensorFlow: the simulator and the task as pure functions on tensors.

The fused training path (:mod:`quadcopter.fused`) runs whole rounds of acting, simulating and
storing inside one compiled call, so the simulator and the task must be TensorFlow code too. They
are the same equations and the same reward as the numpy path, not a second copy:

* :func:`sim_step` calls :func:`~quadcopter.dynamics.udacity_step` or
  :func:`~quadcopter.dynamics.rigid_body_step` with :data:`~quadcopter.dynamics.TENSOR_OPS`;
* :func:`takeoff_step` uses :func:`~quadcopter.tasks.takeoff_reward` and
  :func:`~quadcopter.tasks.takeoff_observation` with :data:`TENSOR_MATH`.

A row here is a row of :class:`~quadcopter.tasks.VectorTakeoffTask`: given the same starts and
actions both give the same observations, rewards and ends, to round-off (tests/test_tensor_task.py).

State of N takeoffs, a :class:`TakeoffState` of float64 tensors:

=============  ========  ==========================================================
field          shape     meaning
=============  ========  ==========================================================
``physics``    (N, 12)   pose (x, y, z m; phi, theta, psi rad), velocity (m/s),
                         angular_v (rad/s): the simulator's state, as ``PhysicsSim``
``time``       (N,)      simulated time of the episode, s
``returns``    (N,)      sum of the rewards of the episode so far
``lengths``    (N,)      agent steps of the episode so far (int32)
``held``       (N,)      the hold rule kept so far (bool, see ``tasks.still_held``)
``air_start``  (N,)      the episode started around the target, not on the ground (bool)
=============  ========  ==========================================================
"""

import math
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from . import dynamics as physics
from .tasks import (
    ACTION_HIGH,
    ACTION_LOW,
    AIR_START_ANGLE,
    AIR_START_POSITION,
    AIR_START_RATE,
    AIR_START_SPEED,
    DEFAULT_TARGET,
    TAKEOFF_RUNTIME,
    still_held,
    takeoff_observation,
    takeoff_reward,
)

# The numpy functions that the takeoff's observation and reward use, for float64 tensors.
TENSOR_MATH = SimpleNamespace(
    asarray=tf.convert_to_tensor,
    abs=tf.abs,
    sqrt=tf.sqrt,
    exp=tf.exp,
    minimum=tf.minimum,
    maximum=tf.maximum,
    mod=tf.math.floormod,  # the sign of the divisor, as numpy's mod and Python's %
    hypot=lambda a, b: tf.sqrt(a * a + b * b),
    concatenate=lambda tensors, axis: tf.concat(tensors, axis=axis),
)


class TakeoffState(NamedTuple):
    """N takeoffs in flight (see the module's table)."""

    physics: tf.Tensor
    time: tf.Tensor
    returns: tf.Tensor
    lengths: tf.Tensor
    held: tf.Tensor
    air_start: tf.Tensor


class StepResult(NamedTuple):
    """What one agent step of N takeoffs gives, each of shape (N, ...).

    ``next_states`` is the state after the step (for a row that ended: its final state);
    ``states`` is the state the agent acts on next (for a row that ended: the new episode's first).
    ``ended`` rows also report their episode: ``episode_returns``, ``episode_lengths``,
    ``final_z``, ``success`` and ``air_start`` (meaningless in rows that did not end).
    """

    next_states: tf.Tensor
    rewards: tf.Tensor
    terminated: tf.Tensor
    truncated: tf.Tensor
    states: tf.Tensor
    ended: tf.Tensor
    episode_returns: tf.Tensor
    episode_lengths: tf.Tensor
    final_z: tf.Tensor
    success: tf.Tensor
    air_start: tf.Tensor


def sim_step(physics_state, rotor_speeds, dynamics):
    """One simulator step of N quadcopters: physics (N, 12) float64, rotor_speeds (N, 4) rev/s.

    Returns ``(physics (N, 12), touched (N,) bool)``: the new state, its position clamped to the
    bounds as ``VectorPhysicsSim`` does, and whether a bound was touched.
    """
    components = tf.unstack(physics_state, axis=1)
    step = physics.STEP_FUNCTIONS[dynamics]
    pose, velocity, angular_v, *_ = step(
        tuple(components[0:6]),
        tuple(components[6:9]),
        tuple(components[9:12]),
        tuple(tf.unstack(rotor_speeds, axis=1)),
        physics.TENSOR_OPS,
    )
    x, y, z, touched = physics.check_bounds(pose[0], pose[1], pose[2], physics.TENSOR_OPS)
    return tf.stack((x, y, z) + tuple(pose[3:]) + tuple(velocity) + tuple(angular_v), axis=1), touched


def initial_state(starts, in_air=None):
    """A :class:`TakeoffState` at the start of N episodes: starts (N, 12) float64 (pose, velocity,
    angular_v); ``in_air`` (N,) bool marks air starts (default: all on the ground)."""
    n = tf.shape(starts)[0]
    zeros = tf.zeros((n,), tf.float64)
    in_air = tf.zeros((n,), tf.bool) if in_air is None else in_air
    return TakeoffState(starts, zeros, zeros, tf.zeros((n,), tf.int32), tf.ones((n,), tf.bool), in_air)


def observe(physics_state, target):
    """The takeoff observation (N, 15) float64 of physics states (N, 12)."""
    return takeoff_observation(
        physics_state[:, 0:6], physics_state[:, 6:9], physics_state[:, 9:12], target, TENSOR_MATH
    )


def takeoff_step(
    state,
    rotor_speeds,
    starts,
    starts_in_air,
    *,
    runtime=TAKEOFF_RUNTIME,
    target=DEFAULT_TARGET,
    dynamics="udacity",
    action_repeat=3,
):
    """One agent step of N takeoffs, as :meth:`VectorTakeoffTask.step <quadcopter.tasks.VectorTakeoffTask.step>`.

    Args:
        state: a :class:`TakeoffState`.
        rotor_speeds: (N, 4) float64, rev/s, clipped to [0, 900].
        starts: (N, 12) float64: where each row starts again if its episode ends in this step
            (rows that go on ignore theirs); ``starts_in_air`` (N,) bool: which of them are air starts.
        runtime, target, dynamics, action_repeat: the task's settings (Python values: they are
            part of the compiled graph).

    Returns ``(new TakeoffState, StepResult)``. For ``action_repeat`` sub-steps, a row that ended
    in an earlier sub-step keeps its final state and earns nothing; ``terminated`` means a bound was
    touched while the row was flying, ``truncated`` that the time limit ended it.
    """
    target = tf.constant(target, tf.float64)
    rotor_speeds = tf.clip_by_value(rotor_speeds, ACTION_LOW, ACTION_HIGH)  # as tasks.check_action
    physics_state, time, held = state.physics, state.time, state.held
    n = tf.shape(physics_state)[0]
    rewards = tf.zeros((n,), tf.float64)
    active = tf.ones((n,), tf.bool)
    terminated = tf.zeros((n,), tf.bool)
    done = tf.zeros((n,), tf.bool)
    for _ in tf.range(action_repeat):  # a loop in the graph, not unrolled: a third of the compile time
        stepped, touched = sim_step(physics_state, rotor_speeds, dynamics)
        physics_state = tf.where(active[:, None], stepped, physics_state)
        time = time + physics.DT
        held = tf.where(active, still_held(held, physics_state[:, 0:6], time, target, TENSOR_MATH), held)
        terminated = terminated | (active & touched)
        done = done | (active & (touched | (time > runtime)))
        step_rewards = takeoff_reward(
            physics_state[:, 0:6],
            physics_state[:, 6:9],
            physics_state[:, 9:12],
            target,
            TENSOR_MATH,
            dynamics=dynamics,
        )
        rewards += tf.where(active, step_rewards, tf.zeros_like(step_rewards))
        active = active & ~done
    truncated = done & ~terminated
    next_states = observe(physics_state, target)
    returns, lengths = state.returns + rewards, state.lengths + 1
    success = truncated & held

    # Rows that ended start again from their row of ``starts``.
    restarted = tf.where(done[:, None], starts, physics_state)
    new_state = TakeoffState(
        restarted,
        tf.where(done, tf.zeros_like(time), time),
        tf.where(done, tf.zeros_like(returns), returns),
        tf.where(done, tf.zeros_like(lengths), lengths),
        held | done,
        tf.where(done, starts_in_air, state.air_start),
    )
    result = StepResult(
        next_states,
        rewards,
        terminated,
        truncated,
        observe(restarted, target),
        done,
        returns,
        lengths,
        physics_state[:, 2],
        success,
        state.air_start,
    )
    return new_state, result


def sample_starts(generator, n, target=DEFAULT_TARGET, air_fraction=0.0):
    """Training starts drawn with a ``tf.random.Generator``, distributed as
    :func:`~quadcopter.tasks.sample_starts` draws them: a share ``air_fraction`` around the target,
    the rest on the ground. Returns ``(starts (n, 12) float64, in_air (n,) bool)``."""

    def uniform(shape, bound):
        return generator.uniform(shape, -bound, bound, dtype=tf.float64)

    zeros = tf.zeros((n,), tf.float64)
    z = generator.uniform((n,), 0.0, 0.5, dtype=tf.float64)
    v_z = generator.uniform((n,), 0.0, 0.1, dtype=tf.float64)
    ground = tf.stack([zeros, zeros, z, zeros, zeros, zeros, zeros, zeros, v_z, zeros, zeros, zeros], axis=1)
    air = tf.concat(
        [
            tf.constant(target, tf.float64) + uniform((n, 3), AIR_START_POSITION),
            uniform((n, 3), AIR_START_ANGLE),
            uniform((n, 3), AIR_START_SPEED),
            uniform((n, 3), AIR_START_RATE),
        ],
        axis=1,
    )
    in_air = generator.uniform((n,), dtype=tf.float64) < air_fraction
    return tf.where(in_air[:, None], air, ground), in_air


def numpy_starts(init_pose, init_velocities, init_angle_velocities=None):
    """Starts (n, 12) float64 from numpy arrays (n, 6), (n, 3) and optionally (n, 3)."""
    init_pose = np.asarray(init_pose, dtype=float)
    rates = np.zeros((len(init_pose), 3)) if init_angle_velocities is None else init_angle_velocities
    return np.concatenate([init_pose, np.asarray(init_velocities, dtype=float), np.asarray(rates, dtype=float)], axis=1)


def steps_per_episode(runtime, action_repeat):
    """The most agent steps an episode can take: the time limit ends it after runtime / dt simulator steps."""
    return math.ceil((runtime / physics.DT + 1) / action_repeat) + 1
