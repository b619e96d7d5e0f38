"""The vectorised tasks in TensorFlow: the simulator and a task's step as pure functions on tensors.

The fused training path (:mod:`quadcopter.fused`) runs whole rounds of acting, simulating and
storing inside one compiled call, so the simulator and the task must be TensorFlow code too. They
are the same equations and the same reward as the numpy path, not a second copy:

* :func:`sim_step` calls :func:`~quadcopter.dynamics.udacity_step` or
  :func:`~quadcopter.dynamics.rigid_body_step` with :data:`~quadcopter.dynamics.TENSOR_OPS`;
* :func:`task_step` calls the task's own functions (:class:`~quadcopter.task_specs.FlightTask`:
  observation, reward, hold) with :data:`TENSOR_MATH`, and its starts are drawn by the task's
  functions with a :class:`TensorDraw`.

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
``goal``       (N, 3)    the episode's goal, m (the takeoff's target, or a drawn one)
=============  ========  ==========================================================
"""

import math
from types import SimpleNamespace
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

from . import dynamics as physics
from .task_specs import (
    CHECK_ROWS,
    FlightTask,
    NumpyDraw,
    check_results,
    ends_in_training,
    every_function,
    has_contact_rule,
    rotor_keywords,
)
from .task_specs import check_task as check_task_on_numpy
from .tasks import DEFAULT_TARGET, TAKEOFF_RUNTIME

# The numpy functions that the tasks' starts, observations and rewards use, for float64 tensors.

# pi / 2 in two parts for the range reduction of TensorOps: the first has 33 significant bits, so
# k * _PI_2_HIGH is exact for |k| < 2^20, and the second carries the next 53 bits.
_PI_2_HIGH = 1.57079632673412561417
_PI_2_LOW = 6.07710050650619224932e-11
# Taylor coefficients (-1)^i / (2i + 1)! and (-1)^i / (2i)!, i = 1 .. 8: on |r| <= pi / 4 the first
# term left out is below 1e-17, a tenth of float64's resolution.
_SIN_TERMS = tuple((-1) ** i / math.factorial(2 * i + 1) for i in range(1, 9))
_COS_TERMS = tuple((-1) ** i / math.factorial(2 * i) for i in range(1, 9))


def _polynomial(coefficients, x):
    """c0 x + c1 x^2 + ... by Horner's rule (c_i from ``coefficients``, x a tensor)."""
    result = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        result = c + x * result
    return x * result


class TensorOps:
    """The same operations on TensorFlow float64 tensors of shape (N,), eagerly or inside a
    ``tf.function(jit_compile=True)`` graph (the fused training path). It lives here, beside the fused
    path, so that the simulator itself (:mod:`quadcopter.dynamics`) needs only numpy.

    ``cos`` and ``sin`` are computed here rather than by ``tf.cos`` and ``tf.sin``: XLA on the CPU
    evaluates float64 sines one element at a time, which cost five times as much as the rest of a
    simulator step together; this version is plain arithmetic that XLA vectorises. x = k pi/2 + r with
    |r| <= pi/4, then a Taylor polynomial in r: within 1.2e-16 of numpy's for |x| up to 1e5 rad
    (tests/test_tensor_task.py), and the simulator wraps its angles every step.
    """

    @staticmethod
    def _sin_cos(x):
        k = tf.round(x * (2 / math.pi))
        r = (x - k * _PI_2_HIGH) - k * _PI_2_LOW
        r2 = r * r
        sin_r = r + r * _polynomial(_SIN_TERMS, r2)
        cos_r = 1.0 + _polynomial(_COS_TERMS, r2)
        quadrant = tf.math.floormod(tf.cast(k, tf.int64), 4)  # x = k pi/2 + r: rotate by k quarters
        swap = (quadrant == 1) | (quadrant == 3)
        sin_x = tf.where(swap, cos_r, sin_r)
        cos_x = tf.where(swap, sin_r, cos_r)
        sin_x = tf.where(quadrant >= 2, -sin_x, sin_x)
        cos_x = tf.where((quadrant == 1) | (quadrant == 2), -cos_x, cos_x)
        return sin_x, cos_x

    @staticmethod
    def cos(x: tf.Tensor) -> tf.Tensor:
        return TensorOps._sin_cos(x)[1]

    @staticmethod
    def sin(x: tf.Tensor) -> tf.Tensor:
        return TensorOps._sin_cos(x)[0]

    @staticmethod
    def relu(x: tf.Tensor) -> tf.Tensor:
        return tf.maximum(x, 0.0)

    @staticmethod
    def advance_ratio(wind: tf.Tensor, n: tf.Tensor, size: float = physics.PROPELLER_SIZE) -> tf.Tensor:
        swept = n * size
        rotating = swept > 0.0
        return tf.where(rotating, wind / tf.where(rotating, swept, 1.0), 0.0)

    @staticmethod
    def mod_2pi(x: tf.Tensor) -> tf.Tensor:
        # The same sums as _ArrayOps.mod_2pi, so that both give the same bits in [-2 pi, 4 pi).
        # Outside it (absurd rates only), x - 2 pi floor(x / 2 pi), which agrees with numpy's
        # remainder to round-off: XLA computes both branches for every row, and its float64
        # floormod runs element by element, a third of the cost of a step.
        result = x + physics.TWO_PI * tf.cast(x < 0.0, x.dtype) - physics.TWO_PI * tf.cast(x >= physics.TWO_PI, x.dtype)
        outside = (x < -physics.TWO_PI) | (x >= 2 * physics.TWO_PI)
        return tf.where(outside, x - physics.TWO_PI * tf.floor(x / physics.TWO_PI), result)

    @staticmethod
    def clamp(position: tf.Tensor, lower: float, upper: float) -> tuple[tf.Tensor, tf.Tensor]:
        touched = (position <= lower) | (position > upper)
        return tf.clip_by_value(position, lower, upper), touched

    @staticmethod
    def logical_or(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        return a | b


TENSOR_OPS = TensorOps()
"""The simulator's operations on float64 tensors (N,): the ``ops`` of :mod:`quadcopter.dynamics` on the fused path."""


TENSOR_MATH = SimpleNamespace(
    asarray=lambda x: tf.convert_to_tensor(x, dtype_hint=tf.float64),
    zeros=lambda shape: tf.zeros(shape, tf.float64),
    ones=lambda shape: tf.ones(shape, tf.float64),
    stack=lambda tensors, axis: tf.stack(tensors, axis=axis),
    where=tf.where,
    abs=tf.abs,
    sqrt=tf.sqrt,
    exp=tf.exp,
    minimum=tf.minimum,
    maximum=tf.maximum,
    floor=tf.floor,
    reshape=tf.reshape,
    mod=tf.math.floormod,  # the sign of the divisor, as numpy's mod and Python's %
    hypot=lambda a, b: tf.sqrt(a * a + b * b),
    concatenate=lambda tensors, axis: tf.concat(tensors, axis=axis),
)


class TensorDraw:
    """Draws from a ``tf.random.Generator``: ``uniform(low, high, shape)`` and ``normal(sigma, shape)`` as float64
    tensors (the tasks' starts and :mod:`quadcopter.randomise` call it as they call
    :class:`~quadcopter.task_specs.NumpyDraw`)."""

    def __init__(self, generator: tf.random.Generator) -> None:
        self.generator = generator

    def uniform(self, low: float, high: float, shape: tuple) -> tf.Tensor:
        return self.generator.uniform(shape, low, high, dtype=tf.float64)

    def normal(self, sigma: float, shape: tuple) -> tf.Tensor:
        return self.generator.normal(shape, stddev=sigma, dtype=tf.float64)


class TakeoffState(NamedTuple):
    """N episodes in flight (see the module's table)."""

    physics: tf.Tensor
    time: tf.Tensor
    returns: tf.Tensor
    lengths: tf.Tensor
    held: tf.Tensor
    air_start: tf.Tensor
    goal: tf.Tensor


class StepResult(NamedTuple):
    """What one agent step of N episodes gives, each of shape (N, ...).

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


def sim_step(
    physics_state: tf.Tensor, rotor_speeds: tf.Tensor, dynamics: str, body: physics.Airframe | None = None
) -> tuple[tf.Tensor, tf.Tensor]:
    """One simulator step of N quadcopters flying ``body`` (default: the Udacity one): physics (N, 12)
    float64, rotor_speeds (N, 4) rev/s.

    Returns ``(physics (N, 12), touched (N,) bool)``: the new state, its position clamped to the
    bounds as ``VectorPhysicsSim`` does, and whether a bound was touched.
    """
    components = tf.unstack(physics_state, axis=1)
    step = physics.step_function(dynamics, body)
    pose, velocity, angular_v, *_ = step(
        tuple(components[0:6]),
        tuple(components[6:9]),
        tuple(components[9:12]),
        tuple(tf.unstack(rotor_speeds, axis=1)),
        TENSOR_OPS,
    )
    x, y, z, touched = physics.check_bounds(pose[0], pose[1], pose[2], TENSOR_OPS)
    return tf.stack((x, y, z) + tuple(pose[3:]) + tuple(velocity) + tuple(angular_v), axis=1), touched


def initial_state(starts: Any, in_air: Any = None, goals: Any = None) -> "TakeoffState":
    """A :class:`TakeoffState` at the start of N episodes: starts (N, 12) float64 (pose, velocity,
    angular_v); ``in_air`` (N,) bool marks air starts (default: all on the ground); ``goals`` (N, 3)
    float64 (default: the takeoff's target)."""
    n = tf.shape(starts)[0]
    zeros = tf.zeros((n,), tf.float64)
    in_air = tf.zeros((n,), tf.bool) if in_air is None else in_air
    if goals is None:
        goals = tf.zeros((n, 3), tf.float64) + tf.constant(DEFAULT_TARGET, tf.float64)
    return TakeoffState(starts, zeros, zeros, tf.zeros((n,), tf.int32), tf.ones((n,), tf.bool), in_air, goals)


def task_step(
    task: FlightTask,
    state: "TakeoffState",
    rotor_speeds: tf.Tensor,
    restarts: Any,
    *,
    runtime: float = TAKEOFF_RUNTIME,
    dynamics: str = "udacity",
    action_repeat: int = 3,
    body: physics.Airframe | None = None,
    observation_noise: tf.Tensor | None = None,
    training_ends: bool = False,
) -> tuple["TakeoffState", "StepResult"]:
    """One agent step of N episodes of ``task`` (a :class:`~quadcopter.task_specs.FlightTask`), as
    :meth:`VectorTakeoffTask.step <quadcopter.tasks.VectorTakeoffTask.step>`.

    Args:
        task: the task, whose observation, reward and hold rule this step runs on tensors.
        state, rotor_speeds: a :class:`TakeoffState`; (N, 4) float64 rev/s, clipped to the airframe's range.
        restarts: ``(starts (N, 12), goals (N, 3), in_air (N,) bool)``: where each row starts again if its
            episode ends in this step (rows that go on ignore theirs).
        runtime, dynamics, action_repeat, body: the task's settings and the airframe (default: the Udacity
            one; randomised, :func:`quadcopter.randomise.bodies`, (N,) tensors in some of its fields).
        observation_noise: (N, 12) float64 on the state the observations see (None: none); rewards do not.
        training_ends: training's episodes end where the task ends them (at rest, past its tilt limit:
            :meth:`~quadcopter.task_specs.FlightTask.training_end`: terminated, paid its value); False (the test
            flights, the evaluation) flies on.

    Returns ``(new TakeoffState, StepResult)``. For ``action_repeat`` sub-steps, a row that ended
    in an earlier sub-step keeps its final state and earns nothing; ``terminated`` means a bound was
    touched while the row was flying, ``truncated`` that the time limit ended it.
    """
    body = physics.check_airframe(dynamics, body)
    rotor_speeds = tf.clip_by_value(rotor_speeds, body.min_rotor_speed, body.max_rotor_speed)  # as check_action
    rotors = rotor_keywords(task, rotor_speeds)
    physics_state, time, held, rewards, terminated, done = _fly_action(
        task, state, rotor_speeds, rotors, runtime, dynamics, action_repeat, body
    )
    goal = state.goal
    if training_ends and ends_in_training(task):
        ended, value = task.training_end(state.physics, physics_state, goal, dynamics, TENSOR_MATH, **rotors)
        ended = ended & ~done
        rewards += tf.where(ended, value, tf.zeros_like(value))
        terminated, done = terminated | ended, done | ended
    truncated = done & ~terminated
    sensed = (lambda x: x) if observation_noise is None else (lambda x: x + observation_noise)  # the sensors
    next_states = task.observe(sensed(physics_state), goal, TENSOR_MATH)
    returns, lengths = state.returns + rewards, state.lengths + 1
    success = task.success(truncated, held)

    after = TakeoffState(physics_state, time, returns, lengths, held, state.air_start, goal)
    new_state = _restart_ended(done, restarts, after)
    restarted, final_z = task.observe(sensed(new_state.physics), new_state.goal, TENSOR_MATH), physics_state[:, 2]
    fields = (next_states, rewards, terminated, truncated, restarted, done, returns, lengths, final_z, success)
    return new_state, StepResult(*fields, state.air_start)


def _fly_action(task, state, rotor_speeds, rotors, runtime, dynamics, action_repeat, body):
    """``action_repeat`` simulator steps of :func:`task_step`'s N episodes under one action: a row that ends in a
    sub-step keeps its final state and earns nothing after it. Returns ``(physics (N, 12), time (N,), held (N,),
    rewards (N,), terminated (N,) bool, done (N,) bool)``."""
    physics_state, time, held, goal = state.physics, state.time, state.held, state.goal
    n = tf.shape(physics_state)[0]
    rewards = tf.zeros((n,), tf.float64)
    active = tf.ones((n,), tf.bool)
    terminated = tf.zeros((n,), tf.bool)
    done = tf.zeros((n,), tf.bool)
    for _ in tf.range(action_repeat):  # a loop in the graph, not unrolled: a third of the compile time
        stepped, touched = sim_step(physics_state, rotor_speeds, dynamics, body)
        if has_contact_rule(task):  # a gentle touchdown rests instead of ending the episode (Land)
            stepped, touched = task.contact(stepped, touched, TENSOR_MATH)
        physics_state = tf.where(active[:, None], stepped, physics_state)
        time = time + physics.DT
        held = tf.where(active, task.track(held, physics_state, time, goal, TENSOR_MATH, **rotors), held)
        terminated = terminated | (active & touched)
        done = done | (active & (touched | (time > runtime)))
        step_rewards = task.reward(physics_state, goal, dynamics, TENSOR_MATH, **rotors)
        rewards += tf.where(active, step_rewards, tf.zeros_like(step_rewards))
        active = active & ~done
    return physics_state, time, held, rewards, terminated, done


def _restart_ended(done, restarts, after):
    """The state the next step starts from: rows that ended (``done`` (N,)) start again from their row of
    ``restarts`` (starts, goals, in_air), the others go on as ``after`` (a :class:`TakeoffState`) has them."""
    starts, goals, in_air = restarts
    return TakeoffState(
        tf.where(done[:, None], starts, after.physics),
        tf.where(done, tf.zeros_like(after.time), after.time),
        tf.where(done, tf.zeros_like(after.returns), after.returns),
        tf.where(done, tf.zeros_like(after.lengths), after.lengths),
        after.held | done,
        tf.where(done, in_air, after.air_start),
        tf.where(done[:, None], goals, after.goal),
    )


def takeoff_step(
    state: "TakeoffState",
    rotor_speeds: tf.Tensor,
    starts: tf.Tensor,
    starts_in_air: tf.Tensor,
    *,
    runtime: float = TAKEOFF_RUNTIME,
    target: Any = DEFAULT_TARGET,
    dynamics: str = "udacity",
    action_repeat: int = 3,
) -> tuple["TakeoffState", "StepResult"]:
    """:func:`task_step` of the takeoff to ``target``, restarting rows that end from ``starts`` (N, 12)
    (``starts_in_air`` (N,) bool: which are air starts)."""
    goals = tf.zeros_like(starts[:, 0:3]) + tf.constant(target, tf.float64)
    return task_step(
        FlightTask(target=tuple(target)),
        state,
        rotor_speeds,
        (starts, goals, starts_in_air),
        runtime=runtime,
        dynamics=dynamics,
        action_repeat=action_repeat,
    )


def numpy_starts(init_pose: ArrayLike, init_velocities: ArrayLike, init_angle_velocities: Any = None) -> np.ndarray:
    """Starts (n, 12) float64 from numpy arrays (n, 6), (n, 3) and optionally (n, 3)."""
    init_pose = np.asarray(init_pose, dtype=float)
    rates = np.zeros((len(init_pose), 3)) if init_angle_velocities is None else init_angle_velocities
    return np.concatenate([init_pose, np.asarray(init_velocities, dtype=float), np.asarray(rates, dtype=float)], axis=1)


def steps_per_episode(runtime: float, action_repeat: int) -> int:
    """The most agent steps an episode can take: the time limit ends it after runtime / dt simulator steps."""
    return math.ceil((runtime / physics.DT + 1) / action_repeat) + 1


def check_task(task: FlightTask, dynamics: str = "udacity") -> FlightTask:
    """:func:`quadcopter.task_specs.check_task` on numpy, then every function of ``task`` on the same rows
    as TensorFlow tensors inside a compiled graph, as the fused path runs them (numpy-only code fails
    there, not in eager mode); returns the task, or raises ``ValueError`` naming the task and the function.
    A task passes once per process and dynamics (a compiled check costs about a second)."""
    if (id(task), dynamics) in _CHECKED:
        return task
    check_task_on_numpy(task, dynamics)
    starts, goals, _ = task.train_starts(NumpyDraw(np.random.default_rng(0)), CHECK_ROWS)
    generator = tf.random.Generator.from_seed(0)
    compiled = tf.function(
        lambda physics, goal: every_function(task, TENSOR_MATH, physics, goal, TensorDraw(generator), dynamics)
    )
    check_results(task, compiled(tf.constant(starts, tf.float64), tf.constant(goals, tf.float64)))
    _CHECKED.add((id(task), dynamics))
    return task


_CHECKED: set[tuple[int, str]] = set()
"""(id of a task, dynamics) of the tasks :func:`check_task` has passed; load_task keeps each learner's task
object for the whole process, so its id stays its own."""
