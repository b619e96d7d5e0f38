"""Tasks: what the quadcopter is asked to do, as states, actions, rewards and episode ends.

:class:`TakeoffTask` is the project's task (``task.Task``); :class:`ReachTargetTask` is the
original Udacity sample task; :class:`HoverTask` starts at the target. All share
:class:`QuadcopterTask`, which runs the sub-steps, clips actions and tells a crash (terminated)
from the time limit (truncated).

The takeoff's observation and reward are functions of arrays with any leading shape, so the same
lines serve one quadcopter here and N of them in :class:`~quadcopter.vector_task.VectorTask`.
"""

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .dynamics import DT, check_dynamics
from .sim import PhysicsSim, shown

Array = Any
"""A numpy array or, on the fused path, a float64 TensorFlow tensor: the array functions take either."""
Xp = Any
"""The array module the array functions compute with: ``numpy``, or ``quadcopter.tensor_task.TENSOR_MATH``."""

ACTION_LOW = 0.0  # rev/s
ACTION_HIGH = 900.0  # rev/s


def to_rotor_speeds(normalised: Array, high: float = ACTION_HIGH, low: float = ACTION_LOW) -> Array:
    """Normalised actions in [-1, 1] (numpy arrays or float64 tensors, any shape ending in 4) -> rotor
    speeds in [low, high] rev/s, the airframe's action range (default [ACTION_LOW, ACTION_HIGH], the Udacity
    quadcopter's: -1 is 0 rev/s, 0 is 450 rev/s, a little above hover, 404 rev/s, and 1 is
    900 rev/s). The one home of this mapping on the quadcopter side (the agent's own, for any task's
    range, is ``agents.actor.scale_to_range``)."""
    return low + (normalised + 1.0) * 0.5 * (high - low)


DEFAULT_TARGET = (0.0, 0.0, 10.0)  # m

# Takeoff success (take off, then hold): from HOLD_FROM to the end of the episode, every simulator
# step is within HOLD_DISTANCE of the target with roll and pitch under HOLD_TILT, and no bound is
# ever touched.
HOLD_FROM = 5.0  # s
HOLD_JUDGED_FROM = HOLD_FROM - 0.5 * DT  # s: the step at t = 5 s counts, whatever the round-off
HOLD_DISTANCE = 1.0  # m
HOLD_TILT = 0.3  # rad
TAKEOFF_RUNTIME = 10.0  # s, the default episode of the takeoff, for training and evaluation
LONG_HOLD_RUNTIME = 30.0  # s, the evaluation's long hold: the same rule, three times as long

# Scales of the takeoff observation: order one where precision matters, near the target (10 m
# below it is -4). With 10 m and 5 m/s the agents learned to hold the altitude but drifted
# sideways by 1.5 m, a tenth of a unit (docs/decisions.md).
POSITION_SCALE = 2.5  # m
VELOCITY_SCALE = 2.0  # m/s
RATE_SCALE = 5.0  # rad/s
# A fine copy of the position error, in units of 0.2 m and clipped to [-1, 1]: 5 cm off is 0.25 of
# it (0.02 of POSITION_SCALE), so the actor sees the last centimetres; beyond 0.2 m it reads -1 or 1,
# so in it a start on the ground is no farther out than any start 0.2 m off. With it the Udacity
# simulator's final actors hovered 2.2-4.3 cm from the target on held-out seeds, against 2.7-9.5 cm
# without it (docs/decisions.md).
FINE_POSITION_SCALE = 0.2  # m
# The hover bonus of the takeoff reward (see :func:`takeoff_reward`): at most HOVER_BONUS more a
# simulator step at the target, falling off over HOVER_BONUS_SCALE, so that the last centimetres pay.
HOVER_BONUS = 0.25
HOVER_BONUS_SCALE = 0.1  # m
REWARD_MAX = 1.0 + HOVER_BONUS
"""The most :func:`takeoff_reward` pays for one simulator step: at the target, level, still, not turning
(and on the rigid body facing psi = 0)."""
YAW_WEIGHTS = {"udacity": 0.0, "rigid_body": 0.25}
"""The weight of the reward's yaw term for each simulator (see :func:`takeoff_reward`): the rigid body's
yaw follows its rotors, so its heading is worth holding; the Udacity simulator has no yaw moment (its yaw
moves only with a start's yaw rate), so a yaw term there would be a penalty no policy can change."""
REWARD_VERSION = 3
"""Which takeoff reward this code pays: 3, with the yaw term on the rigid body (``YAW_WEIGHTS``); 2 had the
hover bonus without it; 1 had neither. A run folder records it (``TrainSettings.reward_version``), so
that a run is never resumed with another reward (its actors can still be flown: the observation is the
same)."""
OBSERVATION_VERSION = 2
"""Which takeoff observation this code makes: 2, the 15 values of :class:`TakeoffTask` (with the fine
position copy); 1 was the first 12 alone. A run folder records it (``TrainSettings.observation_version``),
so that a run is never resumed, nor its actors flown by ``evaluate``, with another observation."""


def wrap_angle(angle: Array, xp: Xp = np) -> Array:
    """Angles (rad, any shape) wrapped to [-pi, pi). ``xp`` is numpy, or :data:`TENSOR_MATH` for tensors."""
    return xp.mod(xp.asarray(angle) + math.pi, 2 * math.pi) - math.pi


def takeoff_observation(pose: Array, velocity: Array, angular_v: Array, target: Array, xp: Xp = np) -> Array:
    """The takeoff state: shape (..., 15) float64 from pose (..., 6), velocity (..., 3), angular_v (..., 3).

    See :class:`TakeoffTask` for the layout. ``xp`` is numpy, or :data:`TENSOR_MATH` for float64
    TensorFlow tensors (the fused training path runs these same lines).
    """
    pose = xp.asarray(pose)
    error = pose[..., :3] - target  # m
    return xp.concatenate(
        [
            error / POSITION_SCALE,
            xp.asarray(velocity) / VELOCITY_SCALE,
            wrap_angle(pose[..., 3:6], xp),
            xp.asarray(angular_v) / RATE_SCALE,
            xp.minimum(xp.maximum(error / FINE_POSITION_SCALE, -1.0), 1.0),
        ],
        axis=-1,
    )


def squared_length(vectors: Array) -> Array:
    """x^2 + y^2 + z^2 of 3-vectors (..., 3), as plain products so that numpy and tensors give the same bits."""
    return vectors[..., 0] * vectors[..., 0] + vectors[..., 1] * vectors[..., 1] + vectors[..., 2] * vectors[..., 2]


def takeoff_reward(
    pose: Array, velocity: Array, angular_v: Array, target: Array, xp: Xp = np, dynamics: str = "udacity"
) -> Array:
    """Reward of one simulator step for the takeoff, shape (...) from arrays as in ``takeoff_observation``.

    r = closeness(d) * (1 - 0.25 min(tilt / (pi / 2), 1) - w min(yaw / (pi / 2), 1) - 0.25 min(spin / 2, 1)
                       - 0.25 min(speed / 5, 1)),
    closeness(d) = (exp(-d / 3 m) + exp(-d / 1 m)) / 2 + 0.25 exp(-d / 0.1 m),
    with d = |(x, y, z) - target| (m), tilt = |phi| + |theta| and yaw = |psi| (wrapped, rad), spin = |p| +
    |q| + |r| (the three angular rates, rad/s), speed = |v| (m/s) and w = ``YAW_WEIGHTS[dynamics]``, the
    simulator's: 0.25 on the rigid body, 0 (no yaw term) on the Udacity simulator. ``ValueError`` for a
    ``dynamics`` that is not one of :data:`~quadcopter.dynamics.DYNAMICS`.
    Always in [0, REWARD_MAX] = [0, 1.25], and 1.25 only at the target, level, still, not turning and
    (with the yaw term) facing psi = 0.

    Closeness pays, and multiplies everything else: a step at the target is worth up to 1.25, 2 cm off
    1.19, 5 cm off 1.12, 0.1 m off 1.03, 1 m off 0.54, 3 m off 0.21, on the ground 10 m below 0.02.
    So the most is earned by climbing and then staying at the target, and a crash (which ends the
    episode) costs every reward the rest of the episode would have brought, which is most near the
    target. The tilt, spin (the yaw rate included: unequal rotor pairs yaw the rigid-body quadcopter) and
    speed terms give an immediate signal for the rotor differences and settle the quadcopter once there.
    The yaw term holds the rigid body's heading: with the spin term alone a slow yaw drift cost nothing,
    and in flights longer than the training's the yaw wandered to angles its training never showed,
    and with it the position (one held-out actor 25 cm off at 180 s); with the yaw term the same seeds'
    final actors hold within 7 mm for 300 s, their yaw within 0.03 rad. The Udacity simulator has no
    yaw moment, so no policy can change its yaw: with the term there too, its actors settled a little
    further from the target (docs/decisions.md), so it has none.

    The slow exp(-d / 3 m) pays for the climb from far below; exp(-d / 1 m) makes the last metre
    count. With the slow term alone, 1 m off still paid 0.72, and on one seed of ten the actor hovered
    1.03 m beside the target, just outside the hold band, for 30,000 of its 256,000 training steps.
    The hover bonus, HOVER_BONUS exp(-d / HOVER_BONUS_SCALE), makes the last centimetres count: at the
    target the two other terms fall by 0.67 a metre, the bonus by 2.5, so closeness falls 4.7 times as
    steeply there (from 1.25 to 1.12 over 5 cm, against 1 to 0.97 without it). With it (and
    ``TrainSettings.late_actor_lr_factor``) the final actors hover about 2 cm from the target, where
    they settled 3-5 cm off without it; it leaves the climb's reward as it was. (An additive reward,
    1 minus capped penalties, paid 0.4 a step for hovering on the ground: the agent learned to stay
    there. All in docs/decisions.md.)
    """
    yaw_weight = YAW_WEIGHTS[check_dynamics(dynamics)]
    pose = xp.asarray(pose)
    angular_v = xp.asarray(angular_v)
    velocity = xp.asarray(velocity)
    distance = xp.sqrt(squared_length(pose[..., :3] - target))
    angles = wrap_angle(pose[..., 3:6], xp)
    tilt = xp.abs(angles[..., 0]) + xp.abs(angles[..., 1])
    yaw = xp.abs(angles[..., 2])
    spin = xp.abs(angular_v[..., 0]) + xp.abs(angular_v[..., 1]) + xp.abs(angular_v[..., 2])
    speed = xp.sqrt(squared_length(velocity))
    closeness = 0.5 * (xp.exp(-distance / 3.0) + xp.exp(-distance)) + HOVER_BONUS * xp.exp(
        -distance / HOVER_BONUS_SCALE
    )
    penalties = 1.0 - 0.25 * xp.minimum(tilt / (math.pi / 2), 1.0)
    if yaw_weight:  # a Python branch: without the term the arithmetic is version 2's, to the last bit
        penalties = penalties - yaw_weight * xp.minimum(yaw / (math.pi / 2), 1.0)
    penalties = penalties - 0.25 * xp.minimum(spin / 2.0, 1.0) - 0.25 * xp.minimum(speed / 5.0, 1.0)
    return closeness * penalties


def in_hold_band(pose: Array, target: Array, xp: Xp = np) -> Array:
    """True where a pose (..., 6) is within HOLD_DISTANCE (1 m) of the target with roll and pitch under
    HOLD_TILT (0.3 rad): shape (...). ``xp`` as in :func:`takeoff_observation`."""
    pose = xp.asarray(pose)
    angles = wrap_angle(pose[..., 3:5], xp)
    return (
        (squared_length(pose[..., :3] - target) <= HOLD_DISTANCE * HOLD_DISTANCE)
        & (xp.abs(angles[..., 0]) < HOLD_TILT)
        & (xp.abs(angles[..., 1]) < HOLD_TILT)
    )


def still_held(held: Array, pose: Array, time: Array, target: Array, xp: Xp = np) -> Array:
    """``held`` after a simulator step that reached ``time`` (s): it turns False at the first step at or
    after HOLD_FROM that is outside the hold band, and stays False."""
    before_hold_time = time < HOLD_JUDGED_FROM
    return held & (before_hold_time | in_hold_band(pose, target, xp))


def takeoff_success(truncated: Array, held: Array) -> Array:
    """The takeoff rule: the episode ran to its time limit (no bound touched) and held the hold band
    at every step from t = 5 s on (see :func:`still_held`)."""
    return np.logical_and(truncated, held)


def sample_takeoff_starts(
    rng: np.random.Generator, n: int, max_height: float = 0.5, max_vertical_speed: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Random takeoff starts: at rest on or just above the ground.

    Returns ``(init_pose (n, 6), init_velocities (n, 3))`` with z uniform in [0, max_height] m, level,
    and a vertical speed uniform in [0, max_vertical_speed] m/s (never downwards, which at z = 0
    would be a crash before the rotors can act).
    """
    init_pose = np.zeros((n, 6))
    init_pose[:, 2] = rng.uniform(0.0, max_height, size=n)
    init_velocities = np.zeros((n, 3))
    init_velocities[:, 2] = rng.uniform(0.0, max_vertical_speed, size=n)
    return init_pose, init_velocities


# Starts around the target (training only): offsets drawn uniformly within these bounds.
AIR_START_POSITION = 2.0  # m, on each axis
AIR_START_SPEED = 1.0  # m/s, on each axis
AIR_START_ANGLE = 0.2  # rad, roll, pitch and yaw
AIR_START_RATE = 0.2  # rad/s, each angular rate


def sample_starts(
    rng: np.random.Generator, n: int, target: ArrayLike = DEFAULT_TARGET, air_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training starts: a share ``air_fraction`` around the target, the rest on the ground.

    A ground start is :func:`sample_takeoff_starts`'s. An air start is the target plus offsets drawn
    uniformly within +-AIR_START_POSITION (m) on each axis, with velocities within +-AIR_START_SPEED
    (m/s), angles within +-AIR_START_ANGLE (rad) and rates within +-AIR_START_RATE (rad/s), so that
    learning sees the states of hovering from the first episode on, not only after a climb.
    Returns ``(init_pose (n, 6), init_velocities (n, 3), init_angle_velocities (n, 3), in_air (n,) bool)``.
    """
    ground_pose, ground_velocities = sample_takeoff_starts(rng, n)
    air_pose = np.concatenate(
        [
            np.asarray(target, dtype=float) + rng.uniform(-AIR_START_POSITION, AIR_START_POSITION, (n, 3)),
            rng.uniform(-AIR_START_ANGLE, AIR_START_ANGLE, (n, 3)),
        ],
        axis=1,
    )
    air_velocities = rng.uniform(-AIR_START_SPEED, AIR_START_SPEED, (n, 3))
    air_rates = rng.uniform(-AIR_START_RATE, AIR_START_RATE, (n, 3))
    in_air = rng.uniform(size=n) < air_fraction
    return (
        np.where(in_air[:, None], air_pose, ground_pose),
        np.where(in_air[:, None], air_velocities, ground_velocities),
        np.where(in_air[:, None], air_rates, 0.0),
        in_air,
    )


def check_action_repeat(action_repeat: int) -> int:
    """``action_repeat`` (simulator steps per action) as an int; ``ValueError`` unless an integer >= 1."""
    if not (
        isinstance(action_repeat, (int, np.integer)) and not isinstance(action_repeat, bool) and action_repeat >= 1
    ):
        raise ValueError(f"action_repeat must be an integer >= 1; got {action_repeat!r}")
    return int(action_repeat)


def check_action(
    rotor_speeds: ArrayLike, shape: tuple[int, ...], high: float = ACTION_HIGH, low: float = ACTION_LOW
) -> np.ndarray:
    """``rotor_speeds`` as a float array of ``shape``, finite, clipped to the action range [low, high] (default
    [ACTION_LOW, ACTION_HIGH], the Udacity quadcopter's).

    Raises ``ValueError`` naming the value and the accepted shape and range.
    """
    action = np.asarray(rotor_speeds, dtype=float)
    if action.shape != shape or not np.all(np.isfinite(action)):
        raise ValueError(
            f"rotor speeds must be finite with shape {shape} (clipped to [{float(low)}, {float(high)}] rev/s); "
            f"got {shown(rotor_speeds)}"
        )
    return np.clip(action, low, high)


class QuadcopterTask:
    """What every task shares: a ``PhysicsSim``, ``action_repeat`` sub-steps per action, episode ends.

    Subclasses define ``state_size``, :meth:`observe` (the state after a step) and
    :meth:`get_reward` (the reward of one simulator step: the Udacity ``Task``'s hook, which
    :meth:`step` calls after every sub-step and sums, as the original does).

    After each :meth:`step`, ``terminated`` is True when the quadcopter touched a bound (a crash,
    the end of the episode's value) and ``truncated`` when the time limit ended it (learning should
    bootstrap through it).
    """

    action_size = 4
    action_low = ACTION_LOW
    action_high = ACTION_HIGH

    def __init__(
        self,
        init_pose: ArrayLike | None = None,
        init_velocities: ArrayLike | None = None,
        init_angle_velocities: ArrayLike | None = None,
        runtime: float = 5.0,
        target_pos: ArrayLike | None = None,
        dynamics: str = "udacity",
        action_repeat: int = 3,
        airframe: Any = None,
    ) -> None:
        check_action_repeat(action_repeat)
        target = np.array(DEFAULT_TARGET if target_pos is None else target_pos, dtype=float)
        if target.shape != (3,) or not np.all(np.isfinite(target)):
            raise ValueError(f"target_pos must be 3 finite values (x, y, z in m); got {target_pos!r}")
        self.sim = PhysicsSim(init_pose, init_velocities, init_angle_velocities, runtime, dynamics, airframe)
        # The airframe's action range (the Udacity quadcopter's: [0, 900] rev/s).
        self.action_low, self.action_high = self.sim.airframe.min_rotor_speed, self.sim.airframe.max_rotor_speed
        self.action_repeat = int(action_repeat)
        self.target_pos = target
        self.terminated = False
        self.truncated = False

    def observe(self) -> np.ndarray:
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step_reward" in cls.__dict__:
            # The hook's name before the Udacity one was restored: an override under it would be ignored.
            raise TypeError(
                f"{cls.__qualname__} defines step_reward(); the reward hook is get_reward(), the Udacity "
                "name (step() calls it after every simulator step and sums it): rename the method"
            )

    def get_reward(self) -> float:
        """The reward of the simulator step just taken (read ``self.sim``): the one reward hook. A learner's
        ``Task`` subclass overrides it as in the Udacity project; :meth:`step` calls it after each of the
        ``action_repeat`` simulator steps and returns the sum."""
        raise NotImplementedError

    def _checked_reward(self):
        """:meth:`get_reward` as a float; ``ValueError`` naming the task and the method unless it is one
        finite number (a NaN or an array would otherwise surface much later, inside the agent)."""
        reward = self.get_reward()
        try:
            value = float(reward)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(
                f"{type(self).__qualname__}.get_reward() must return one finite number; got {shown(reward)}"
            )
        return value

    def track_substep(self) -> None:
        """Called after every simulator step of :meth:`step`, before its reward: what a task keeps
        track of over an episode (the takeoff: whether it held the target). Nothing by default."""

    def reset(self) -> np.ndarray:
        """Start a new episode; returns the initial state."""
        self.sim.reset()
        self.terminated = False
        self.truncated = False
        return self.observe()

    def step(self, rotor_speeds: ArrayLike) -> tuple[np.ndarray, float, bool]:
        """Apply 4 rotor speeds (rev/s) for ``action_repeat`` simulator steps.

        Finite speeds are clipped to [action_low, action_high]; non-finite or wrongly shaped ones
        raise ``ValueError`` before the simulator is touched. Sub-stepping stops once the
        simulator is done. Returns ``(next_state, reward, done)``, the reward summed over the
        sub-steps taken. Stepping an episode that has ended raises ``RuntimeError``: call
        :meth:`reset` first.
        """
        if self.terminated or self.truncated:
            raise RuntimeError(
                "the episode has ended (it touched a bound or reached its time limit); "
                "call reset() before stepping again"
            )
        action = check_action(rotor_speeds, (self.action_size,), self.action_high, self.action_low)
        reward = 0.0
        for _ in range(self.action_repeat):
            done = self.sim.next_timestep(action)
            self.track_substep()
            reward += self._checked_reward()
            if done:
                break
        self.terminated = bool(self.sim.out_of_bounds)
        self.truncated = bool(done and not self.terminated)
        return self.observe(), float(reward), bool(done)


class TakeoffTask(QuadcopterTask):
    """Take off from the ground, then hold the target (default (0, 0, 10) m) until the time limit.

    This is ``task.Task``. Constructor as the Udacity ``Task``, plus ``dynamics``, ``action_repeat``,
    ``air_starts`` and ``seed``.

    **Start**: with no ``init_pose``, ``init_velocities`` or ``init_angle_velocities`` given, every
    :meth:`reset` draws a random start with :func:`sample_starts` from a Generator seeded with
    ``seed``: a share ``air_starts`` (default 0.5) around the target, within 2 m, 1 m/s, 0.2 rad and
    0.2 rad/s, so that holding is learned from the first episode on; the rest on the ground, at rest,
    z in [0, 0.5] m. With any of them given, every episode starts there (as the Udacity ``Task``).
    ``in_air_start`` tells which kind the current episode had. ``runtime`` 10 s.

    **Action** (``action_size`` = 4): rotor speeds in rev/s, clipped to [0, 900]. Hover is about
    404 rev/s on each rotor; below it, a start at z = 0 ends on the first step (the z = 0 bound).

    **State** (``state_size`` = 15), after the last sub-step:

    ==========  =====================================  ======
    index       meaning                                unit
    ==========  =====================================  ======
    0, 1, 2     (x, y, z) - target, divided by 2.5     2.5 m
    3, 4, 5     (vx, vy, vz), earth frame, / 2          2 m/s
    6, 7, 8     (phi, theta, psi) wrapped to [-pi, pi)  rad
    9, 10, 11   the simulator's angular_v, / 5          5 rad/s
    12, 13, 14  (x, y, z) - target, / 0.2, clipped to   0.2 m
                [-1, 1]: the last centimetres
    ==========  =====================================  ======

    **Reward**: the sum over the sub-steps of :func:`takeoff_reward`: a closeness that falls from 1.25
    at the target to 1.12 at 5 cm, 0.54 at 1 m and 0.02 at 10 m, times (1 - tilt, spin and speed
    penalties, and yaw on the rigid body); each in [0, 1.25] and 1.25 only at the target, level and still
    (and facing psi = 0 on the rigid body), so a step's reward is
    within ``reward_range`` = (0, 1.25 action_repeat): staying at the target earns the most, and a
    crash loses every reward the rest of the episode would have brought.

    **End**: ``terminated`` when the quadcopter touches a bound (z = 0 counts: a crash);
    ``truncated`` when ``time > runtime``.

    **Success** (``success``, after the episode): the takeoff-and-hold rule of
    :func:`takeoff_success`: truncated, and at every simulator step from t = 5 s to the end within
    1 m of the target with roll and pitch under 0.3 rad (``held``).
    """

    state_size = 15

    def __init__(
        self,
        init_pose: ArrayLike | None = None,
        init_velocities: ArrayLike | None = None,
        init_angle_velocities: ArrayLike | None = None,
        runtime: float = TAKEOFF_RUNTIME,
        target_pos: ArrayLike | None = None,
        dynamics: str = "udacity",
        action_repeat: int = 3,
        air_starts: float = 0.5,
        seed: int | None = None,
        airframe: Any = None,
    ) -> None:
        if not (isinstance(air_starts, (int, float)) and 0.0 <= air_starts <= 1.0):
            raise ValueError(f"air_starts must be a share in [0, 1]; got {air_starts!r}")
        self.random_starts = init_pose is None and init_velocities is None and init_angle_velocities is None
        if init_pose is None:
            init_pose = np.zeros(6)
        super().__init__(
            init_pose, init_velocities, init_angle_velocities, runtime, target_pos, dynamics, action_repeat, airframe
        )
        self.air_starts = float(air_starts)
        self.rng = np.random.default_rng(seed)
        self.in_air_start = False
        self.held = True

    @property
    def reward_range(self) -> tuple[float, float] | None:
        """The lowest and highest reward of one step (action_repeat sub-steps, each in [0, REWARD_MAX]),
        with which DDPG can bound its critic's targets (``DDPGConfig.clip_q_targets``); None when a subclass
        pays its own ``get_reward``, whose range this class cannot know (a subclass that knows it can
        define ``reward_range`` too)."""
        if type(self).get_reward is not TakeoffTask.get_reward:
            return None
        return (0.0, REWARD_MAX * self.action_repeat)

    def reset(self) -> np.ndarray:
        if self.random_starts:
            pose, velocities, rates, in_air = sample_starts(self.rng, 1, self.target_pos, self.air_starts)
            self.sim.init_pose, self.sim.init_velocities, self.sim.init_angle_velocities = (
                pose[0],
                velocities[0],
                rates[0],
            )
            self.in_air_start = bool(in_air[0])
        self.held = True
        return super().reset()

    def observe(self) -> np.ndarray:
        return takeoff_observation(self.sim.pose, self.sim.v, self.sim.angular_v, self.target_pos)

    def get_reward(self) -> float:
        """:func:`takeoff_reward` of the simulator's state (see the class docstring)."""
        return float(
            takeoff_reward(self.sim.pose, self.sim.v, self.sim.angular_v, self.target_pos, dynamics=self.sim.dynamics)
        )

    def track_substep(self) -> None:
        # Before the hold is judged, or once it is lost, nothing can change it: skip the band's
        # arithmetic, which the Udacity loop would pay three times a step.
        if self.held and self.sim.time >= HOLD_JUDGED_FROM:
            self.held = bool(still_held(self.held, self.sim.pose, self.sim.time, self.target_pos))

    @property
    def success(self) -> bool:
        return bool(takeoff_success(self.truncated, self.held))


class HoverTask(TakeoffTask):
    """Hold the target position, starting there (default (0, 0, 10), at rest). State, reward and success
    as the takeoff."""

    def __init__(
        self,
        init_pose: ArrayLike | None = None,
        init_velocities: ArrayLike | None = None,
        init_angle_velocities: ArrayLike | None = None,
        runtime: float = TAKEOFF_RUNTIME,
        target_pos: ArrayLike | None = None,
        dynamics: str = "udacity",
        action_repeat: int = 3,
    ) -> None:
        target = DEFAULT_TARGET if target_pos is None else target_pos
        if init_pose is None:
            init_pose = np.concatenate([np.asarray(target, dtype=float), np.zeros(3)])
        super().__init__(init_pose, init_velocities, init_angle_velocities, runtime, target, dynamics, action_repeat)


class ReachTargetTask(QuadcopterTask):
    """The original Udacity sample task: fly towards ``target_pos``.

    **State** (``state_size`` = 6 * action_repeat = 18): the pose (x, y, z, phi, theta, psi; m, rad)
    after each sub-step, concatenated; if the episode ends early, the last pose fills the rest.

    **Action**: 4 rotor speeds, rev/s, clipped to [0, 900]. **Reward** per sub-step:
    1 - 0.3 * sum(|(x, y, z) - target|), summed over the sub-steps. **Start**: the Udacity
    default pose (0, 0, 10, 0, 0, 0) unless given; target (0, 0, 10) unless given.
    **End**: a bound (terminated) or the time limit (truncated).
    """

    def __init__(
        self,
        init_pose: ArrayLike | None = None,
        init_velocities: ArrayLike | None = None,
        init_angle_velocities: ArrayLike | None = None,
        runtime: float = 5.0,
        target_pos: ArrayLike | None = None,
        dynamics: str = "udacity",
        action_repeat: int = 3,
    ) -> None:
        super().__init__(
            init_pose, init_velocities, init_angle_velocities, runtime, target_pos, dynamics, action_repeat
        )
        self.state_size = 6 * self.action_repeat
        self._poses: list[np.ndarray] = []

    def reset(self) -> np.ndarray:
        self._poses = []
        self.sim.reset()
        self.terminated = self.truncated = False
        return np.tile(self.sim.pose, self.action_repeat)

    def track_substep(self) -> None:
        self._poses.append(self.sim.pose)  # the state is the poses of the step's sub-steps

    def get_reward(self) -> float:
        """The original sample's reward of one simulator step."""
        return 1.0 - 0.3 * float(np.abs(self.sim.pose[:3] - self.target_pos).sum())

    def step(self, rotor_speeds: ArrayLike) -> tuple[np.ndarray, float, bool]:
        self._poses = []
        return super().step(rotor_speeds)

    def observe(self) -> np.ndarray:
        poses = self._poses + [self._poses[-1]] * (self.action_repeat - len(self._poses))
        return np.concatenate(poses)
