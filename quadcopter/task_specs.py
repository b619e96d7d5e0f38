"""Tasks written once for every path: starts, observation, reward, hold and success as array functions.

A :class:`FlightTask` is data (its start ranges, its goal) plus a few pure functions of arrays with a
leading batch axis. ``xp`` is numpy, or :data:`~quadcopter.tensor_task.TENSOR_MATH` for float64
TensorFlow tensors; ``draw`` draws uniform numbers from a numpy ``Generator`` (:class:`NumpyDraw`) or a
``tf.random.Generator`` (``TensorDraw``). The numpy vector path (:class:`~quadcopter.tasks.VectorTakeoffTask`),
the fused TensorFlow path (:mod:`quadcopter.tensor_task`) and the evaluation call these same functions,
so a task behaves alike everywhere (``tests/test_task_specs.py``).

Every built-in task is *fly to a goal and hold it*: the observation and the reward are the takeoff's
(:func:`~quadcopter.tasks.takeoff_observation`, :func:`~quadcopter.tasks.takeoff_reward`) measured from
the episode's goal, and success is the takeoff's hold rule around that goal. What differs is where
episodes start and where the goal is:

=========  ===============================================  ==================================================
task       start                                            goal
=========  ===============================================  ==================================================
takeoff    on the ground at rest, z in [0, 0.5] m, v_z in   (0, 0, 10) m
           [0, 0.1] m/s; in training, half of them around
           the goal instead (within 2 m, 1 m/s, 0.2 rad,
           0.2 rad/s), so that holding is learned early
hover      at the goal plus a push: within 1 m on each      (0, 0, 10) m
           axis, 2 m/s on each axis, 0.3 rad of roll,
           pitch and yaw, 1 rad/s on each rate
reach      in the box x, y in [-5, 5] m, z in [5, 15] m,    drawn anew every episode in the same box
           within 4 m of the goal on each axis, nearly at
           rest (0.5 m/s, 0.1 rad, 0.1 rad/s)
land       3-15 m up, within 3 m of the pad sideways,       the pad, (0, 0, 0) m: touch down gently on it
           moving (1 m/s, 0.1 rad, 0.1 rad/s on each axis)  and rest there with the rotors slowed
=========  ===============================================  ==================================================

The landing is the one task whose episode goes on after the ground is touched: its :meth:`Land.contact`
rule tells a gentle touchdown (which then rests on the ground) from a crash, and its reward and success
also see the rotor speeds (``sees_rotor_speeds``). In training its episodes end at rest, paid what resting
on is worth (``ends_at_rest``, :meth:`FlightTask.final_rest`), and when it tilts past ``tilt_limit``; the
evaluation flies on (:meth:`FlightTask.training_end`).

A learner's own task is a subclass that overrides some of these functions (see ``docs/tasks.md``);
:func:`check_task` runs them on numpy and TensorFlow values before training, so that a wrong shape, a
non-finite value or numpy-only code is named before anything starts.
"""

import dataclasses
import importlib
import math
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .dynamics import DT, hover_rotor_speed
from .tasks import (
    AIR_START_ANGLE,
    AIR_START_POSITION,
    AIR_START_RATE,
    AIR_START_SPEED,
    DEFAULT_TARGET,
    HOLD_FROM,
    REWARD_MAX,
    TAKEOFF_RUNTIME,
    Array,
    Xp,
    in_hold_band,
    squared_length,
    takeoff_observation,
    takeoff_reward,
    wrap_angle,
)


class NumpyDraw:
    """Draws from a numpy ``Generator``: ``uniform(low, high, shape)`` and ``normal(sigma, shape)`` (mean 0) as
    float64 arrays."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def uniform(self, low: float, high: float, shape: tuple) -> np.ndarray:
        return self.rng.uniform(low, high, shape)

    def normal(self, sigma: float, shape: tuple) -> np.ndarray:
        return self.rng.normal(0.0, sigma, shape)


@dataclasses.dataclass(frozen=True)
class FlightTask:
    """Take off from the ground, then hold the goal (the takeoff; subclasses change the starts and goals).

    **Physics state** (the rows the functions take): ``physics`` (N, 12) = pose (x, y, z m; phi, theta,
    psi rad), velocity (m/s, earth frame), angular_v (rad/s); ``goal`` (N, 3) m; ``time`` (N,) s.

    **Observation** (:meth:`observe`, ``state_size`` = 15): :func:`~quadcopter.tasks.takeoff_observation`
    from the goal. **Reward** of one simulator step (:meth:`reward`):
    :func:`~quadcopter.tasks.takeoff_reward` from the goal, in [0, 1.25]. **End**: a bound touched (the
    ground included: terminated) or the time limit (truncated). **Success** (:meth:`success`): truncated,
    and at every simulator step from ``hold_from`` s on within ``HOLD_DISTANCE`` (1 m) of the goal with
    roll and pitch under ``HOLD_TILT`` (0.3 rad) (:meth:`track` keeps that flag, ``held``).
    """

    name: str = "takeoff"
    target: tuple = DEFAULT_TARGET
    """The goal, m (tasks whose goal is drawn ignore it)."""
    air_starts: float = 0.5
    """Share of the training starts around the goal instead of on the ground (the takeoff's)."""
    hold_from: float = HOLD_FROM
    """s: the hold is judged from here to the end of the episode."""

    state_size = 15
    goal_drawn = False
    """True: every episode draws its own goal (``target`` is not it); plots then mark no single target."""
    sees_rotor_speeds = False
    """True: :meth:`reward` and :meth:`track` are also given ``rotor_speeds=`` (N, 4) rev/s, the step's."""
    ends_at_rest = False
    """True: training ends an episode when :meth:`final_rest` says it has come to rest (the landing's
    touchdown), paying at once what resting on would earn; the test flights and the evaluation fly on."""
    tilt_limit: ClassVar[float | None] = None
    """rad, or None (no limit): training ends an episode (terminated, paid nothing more) at the step that leaves
    its roll or pitch beyond this, in (0, pi]; the test flights and the evaluation fly on. The landing's and
    reach's, 1 rad: on the Udacity simulator their runs otherwise spent much of their budget tumbling, or
    crashed on the way (docs/tasks.md, "Choices")."""

    # --- Starts ---

    def train_starts(self, draw: Any, n: int, xp: Any = np) -> tuple:
        """Training starts: ``(starts (n, 12), goals (n, 3), in_air (n,) bool)`` drawn with ``draw``."""
        return takeoff_starts(draw, n, self.target, self.air_starts, xp)

    def test_starts(self, draw: Any, n: int, xp: Any = np) -> tuple:
        """Starts of the test flights and the evaluation (drawn with their own seeds): ``(starts, goals)``."""
        return ground_starts(draw, n, xp), xp.zeros((n, 3)) + xp.asarray(self.target)

    # --- What the agent sees and earns ---

    def observe(self, physics: Any, goal: Any, xp: Any = np) -> Any:
        """The observation (N, ``state_size``) of physics states (N, 12) and goals (N, 3)."""
        return takeoff_observation(physics[:, 0:6], physics[:, 6:9], physics[:, 9:12], goal, xp)

    def reward(self, physics: Any, goal: Any, dynamics: str, xp: Any = np) -> Any:
        """The reward (N,) of one simulator step that ended in ``physics``."""
        return takeoff_reward(physics[:, 0:6], physics[:, 6:9], physics[:, 9:12], goal, xp, dynamics=dynamics)

    def reward_range(self, action_repeat: int) -> tuple[float, float] | None:
        """(lowest, highest) reward of one agent step, or None when unknown (a learner's own reward)."""
        if type(self).reward is not FlightTask.reward:
            return None
        return (0.0, REWARD_MAX * action_repeat)

    # --- Touching a bound ---

    def contact(self, physics: Any, touched: Any, xp: Any = np) -> tuple:
        """After a simulator step: ``(physics (N, 12), crashed (N,) bool)``. ``touched`` (N,) bool: the step
        touched a bound (the ground, z = 0, is one). Here every touch is a crash that ends the episode
        (terminated), the state as the simulator left it; :class:`Land` lets a gentle touchdown rest."""
        return physics, touched

    # --- The end of training episodes at rest (ends_at_rest) ---

    def final_rest(self, before: Any, physics: Any, goal: Any, dynamics: str, xp: Any = np) -> tuple:
        """For a task with ``ends_at_rest``, after an agent step from ``before`` (N, 12) that ended in
        ``physics`` (N, 12): ``(rested (N,) bool, value (N,))``, the rows whose training episode ends here
        (terminated) and the reward they get for it on top of the step's, standing for the rest of the
        episode. Here: never."""
        return physics[:, 2] < -math.inf, physics[:, 2] * 0.0

    def training_end(self, before: Any, physics: Any, goal: Any, dynamics: str, xp: Any = np, **rotors: Any) -> tuple:
        """Training's own ends of its episodes, after an agent step from ``before`` (N, 12) to ``physics`` (N, 12):
        ``(ended (N,) bool, value (N,))``, the rows that end here (terminated) and what they get on top of the
        step's reward. A row ends at rest (:meth:`final_rest`, with ``ends_at_rest``: paid its value) or past
        ``tilt_limit`` (paid nothing more). The paths call it in training only (:func:`ends_in_training`)."""
        if self.ends_at_rest:
            ended, value = self.final_rest(before, physics, goal, dynamics, xp, **rotors)
        else:
            ended, value = physics[:, 2] < -math.inf, physics[:, 2] * 0.0
        value = xp.where(ended, value, 0.0 * value)
        if self.tilt_limit is not None:
            ended = ended | (largest_tilt(physics, xp) > self.tilt_limit)
        return ended, value

    # --- Success ---

    def track(self, held: Any, physics: Any, time: Any, goal: Any, xp: Any = np) -> Any:
        """``held`` (N,) bool after a simulator step that reached ``time``: False from the first step at or
        after ``hold_from`` outside the hold band, for good."""
        judged = time >= self.hold_from - 0.5 * DT
        return held & (~judged | in_hold_band(physics[:, 0:6], goal, xp))

    def success(self, truncated: Any, held: Any) -> Any:
        """The episode's success (N,) bool from how it ended and the tracked flag."""
        return truncated & held


def ground_starts(draw: Any, n: int, xp: Xp = np) -> Array:
    """Takeoff starts on the ground: (n, 12) at rest, level, z in [0, 0.5] m, v_z in [0, 0.1] m/s (never
    downwards, which at z = 0 would be a crash before the rotors can act)."""
    zeros = xp.zeros((n,))
    z = draw.uniform(0.0, 0.5, (n,))
    v_z = draw.uniform(0.0, 0.1, (n,))
    return xp.stack([zeros, zeros, z, zeros, zeros, zeros, zeros, zeros, v_z, zeros, zeros, zeros], axis=1)


def takeoff_starts(draw: Any, n: int, target: Array, air_fraction: float, xp: Xp = np) -> tuple:
    """The takeoff's training starts: a share ``air_fraction`` around ``target`` (within AIR_START_POSITION m,
    AIR_START_SPEED m/s, AIR_START_ANGLE rad and AIR_START_RATE rad/s on each axis), the rest on the
    ground (:func:`ground_starts`). Returns ``(starts (n, 12), goals (n, 3), in_air (n,))``; the draws come
    in the order the takeoff always drew them, so its runs are unchanged."""
    ground = ground_starts(draw, n, xp)
    air = xp.concatenate(
        [
            xp.asarray(target) + draw.uniform(-AIR_START_POSITION, AIR_START_POSITION, (n, 3)),
            draw.uniform(-AIR_START_ANGLE, AIR_START_ANGLE, (n, 3)),
            draw.uniform(-AIR_START_SPEED, AIR_START_SPEED, (n, 3)),
            draw.uniform(-AIR_START_RATE, AIR_START_RATE, (n, 3)),
        ],
        axis=1,
    )
    in_air = draw.uniform(0.0, 1.0, (n,)) < air_fraction
    return xp.where(in_air[:, None], air, ground), xp.zeros((n, 3)) + xp.asarray(target), in_air


def pushed_starts(
    draw: Any, n: int, center: Array, position: float | tuple, speed: float, angle: float, rate: float, xp: Xp = np
) -> Array:
    """Starts (n, 12) around ``center`` (3 numbers, m): uniform within +-``position`` m, +-``speed`` m/s,
    +-``angle`` rad and +-``rate`` rad/s on each axis (a number, or three for the position)."""
    return xp.concatenate(
        [
            xp.asarray(center) + draw.uniform(-1.0, 1.0, (n, 3)) * xp.asarray(position),
            draw.uniform(-angle, angle, (n, 3)),
            draw.uniform(-speed, speed, (n, 3)),
            draw.uniform(-rate, rate, (n, 3)),
        ],
        axis=1,
    )


@dataclasses.dataclass(frozen=True)
class Hover(FlightTask):
    """Recover from a push near the goal and hold it: starts at the goal plus uniform offsets within
    ``position`` m, ``speed`` m/s, ``angle`` rad (roll, pitch, yaw) and ``rate`` rad/s on each axis, in
    training and evaluation alike. Observation, reward, end and success as :class:`FlightTask`."""

    name: str = "hover"
    position: float = 1.0
    speed: float = 2.0
    angle: float = 0.3
    rate: float = 1.0

    def _starts(self, draw: Any, n: int, xp: Xp) -> tuple:
        starts = pushed_starts(draw, n, self.target, self.position, self.speed, self.angle, self.rate, xp)
        return starts, xp.zeros((n, 3)) + xp.asarray(self.target)

    def train_starts(self, draw: Any, n: int, xp: Xp = np) -> tuple:
        starts, goals = self._starts(draw, n, xp)
        return starts, goals, xp.ones((n,)) > 0.0

    def test_starts(self, draw: Any, n: int, xp: Xp = np) -> tuple:
        return self._starts(draw, n, xp)


REACH_LOW = (-5.0, -5.0, 5.0)
"""m: the corner of the reach task's box nearest the origin (x, y, z)."""
REACH_HIGH = (5.0, 5.0, 15.0)
"""m: the opposite corner: a box 10 m across on every axis, its floor 5 m above the ground."""


@dataclasses.dataclass(frozen=True)
class Reach(FlightTask):
    """Fly to a goal drawn anew every episode and hold it: the goal uniform in the box ``low`` to ``high``
    (m), the start in the same box within ``start_radius`` m of the goal on each axis, nearly at rest
    (within ``speed`` m/s, ``angle`` rad and ``rate`` rad/s on each axis). The goal is in the observation
    as the position error, so one actor flies to any goal. Reward, end and success as :class:`FlightTask`,
    around the episode's goal; in training an episode also ends at a step that leaves roll or pitch beyond
    ``tilt_limit`` (1 rad, as the landing's: on the Udacity simulator 6 of 10 seeds' final actors reached 95%
    without it, their failures tumbling crashes, and 10 of 10 with it; docs/tasks.md, "Choices")."""

    name: str = "reach"
    goal_drawn = True
    tilt_limit = 1.0
    low: tuple = REACH_LOW
    high: tuple = REACH_HIGH
    speed: float = 0.5
    angle: float = 0.1
    rate: float = 0.1
    start_radius: float | None = 4.0
    """m: starts lie within +-start_radius of the goal on each axis, clipped into the box (None: anywhere in
    the box). 4 m: with starts anywhere (up to 17 m from the goal) the final actors crashed on the way in
    up to a third of the evaluation flights (docs/tasks.md, "Choices")."""

    def _starts(self, draw: Any, n: int, xp: Xp) -> tuple:
        low, high = np.asarray(self.low, float), np.asarray(self.high, float)
        center, half = (low + high) / 2, (high - low) / 2
        starts = pushed_starts(draw, n, tuple(center), tuple(half), self.speed, self.angle, self.rate, xp)
        goals = xp.asarray(tuple(center)) + draw.uniform(-1.0, 1.0, (n, 3)) * xp.asarray(tuple(half))
        if self.start_radius is not None:
            near = goals + (starts[:, 0:3] - xp.asarray(tuple(center))) / xp.asarray(tuple(half)) * self.start_radius
            near = xp.minimum(xp.maximum(near, xp.asarray(tuple(low))), xp.asarray(tuple(high)))
            starts = xp.concatenate([near, starts[:, 3:12]], axis=1)
        return starts, goals

    def train_starts(self, draw: Any, n: int, xp: Xp = np) -> tuple:
        starts, goals = self._starts(draw, n, xp)
        return starts, goals, xp.ones((n,)) > 0.0

    def test_starts(self, draw: Any, n: int, xp: Xp = np) -> tuple:
        return self._starts(draw, n, xp)


PAD = (0.0, 0.0, 0.0)
"""m: the landing pad's centre, on the ground."""
PAD_RADIUS = 0.5
"""m: a landing counts within this horizontal distance of the pad's centre (a pad 1 m across; the
quadcopter is 0.51 m wide)."""
TOUCHDOWN_SPEED = 1.0
"""m/s: the fastest descent at which touching the ground is a touchdown, not a crash (about the speed of a
drop from 5 cm; small quadcopters' legs take a metre a second)."""
TOUCHDOWN_SLIDE = 0.5
"""m/s: the fastest horizontal speed at which touching the ground is a touchdown (faster, the legs catch
and it tips)."""
TOUCHDOWN_TILT = 0.2
"""rad: the largest roll or pitch at which touching the ground is a touchdown (about 11 degrees)."""
SLOW_ROTORS = 0.5
"""Share of the hover speed (about 404 rev/s) under which every rotor must turn while the landed
quadcopter rests: a quarter of the hover's thrust."""


LAND_REWARD_MAX = 1.25
"""The most one simulator step of the landing pays: at rest on the pad's centre with the rotors stopped."""
LAND_EFFORT_WEIGHT = 0.5
"""What the rotors cost a resting quadcopter, per unit of mean rotor speed / hover speed (see :func:`land_reward`)."""


REST_STEPS = 57
"""Simulator steps of resting that a training landing's last step pays at once (:meth:`Land.final_rest`):
what a critic with gamma 0.95 counts for resting on at the same reward, gamma / (1 - gamma) = 19 agent steps
of 3 simulator steps (the defaults), so that its estimate of a touchdown is right without having to learn
what the rest is worth step by step."""


def rest_worth(physics: Array, goal: Array, rotor_speeds: Array, xp: Xp = np) -> Array:
    """What one simulator step of the rest that ends a training landing is worth (:meth:`Land.final_rest`),
    (N,): (1.25 - max(f - 0.3, 0)) exp(-d / 0.5 m), with f the fastest rotor's speed / hover speed and d the
    horizontal distance to the pad. Unlike the resting reward's mean effort, it is steep in the rotor that
    the success rule judges (every rotor under :data:`SLOW_ROTORS`, 0.5, of the hover speed): with the mean
    effort's gentler slope the Udacity actors rested with a rotor at 0.5-0.7 of the hover speed
    (docs/tasks.md, "Choices")."""
    distance = xp.sqrt(horizontal_squared(physics[:, 0:2] - goal[:, 0:2]))
    fastest = xp.maximum(
        xp.maximum(rotor_speeds[:, 0], rotor_speeds[:, 1]), xp.maximum(rotor_speeds[:, 2], rotor_speeds[:, 3])
    )
    return (LAND_REWARD_MAX - xp.maximum(fastest / hover_rotor_speed() - 0.3, 0.0)) * xp.exp(-distance / 0.5)


def land_velocity(physics: Array, goal: Array, xp: Xp = np) -> Array:
    """The velocity (N, 3) m/s the landing asks for at each state: towards the pad sideways at min(d, 1.5) m/s
    (d the horizontal distance, m), and down at min(0.3 + z, 3) m/s scaled by max(0, 1 - d / 4 m): straight
    above the pad it comes down at 3 m/s until about 2.7 m up, then slower and slower to 0.3 m/s at the
    ground, a third of :data:`TOUCHDOWN_SPEED`; 4 m or more to the side, it holds its height and closes in
    first, so that it does not touch down beside the pad. Followed exactly from the far corner of the
    evaluation's starts (15 m up, 3 m off on x and y) it touches down after 8.1 s, 1.9 s before the success
    rule judges the rest (10 s; with d / 2 m and 1 m/s it took 9.9 s, and the actors came late)."""
    offset = physics[:, 0:2] - goal[:, 0:2]
    distance = xp.sqrt(horizontal_squared(offset))
    sideways = 1.5 * offset / xp.maximum(distance, 1.5)[:, None]  # m/s: -sideways has magnitude min(d, 1.5)
    down = xp.minimum(0.3 + physics[:, 2], 3.0) * xp.maximum(1.0 - distance / 4.0, 0.0)
    return xp.stack([-sideways[:, 0], -sideways[:, 1], -down], axis=1)


def land_reward(physics: Array, goal: Array, rotor_speeds: Array, xp: Xp = np) -> Array:
    """The landing's reward of one simulator step, (N,) in [0, :data:`LAND_REWARD_MAX`] (1.25):

    * flying: exp(-|v - v*| / 1 m/s) * attitude * (0.5 + 0.5 exp(-d / 1 m)), in [0, 1], with v* the
      velocity :func:`land_velocity` asks for, attitude as in :func:`~quadcopter.tasks.takeoff_reward`
      (1 - 0.25 min(tilt / (pi / 2), 1) - 0.25 min(spin / 2, 1)) and d the horizontal distance to the pad;
    * resting (z = 0, where the contact rule puts a touchdown): (1.25 - w effort) exp(-d / 0.5 m), with effort
      the mean rotor speed / hover speed, capped at 1, and w = :data:`LAND_EFFORT_WEIGHT`: on the pad with the
      rotors stopped it pays a quarter more than the best flight.

    Why so (docs/tasks.md, "Choices"): the agent looks about a second ahead (gamma 0.95), so each step must
    say what a good landing is. With the takeoff's reward around the pad, the actors dove (crashing at
    6-20 m/s) or hovered 1-3 cm above the pad, where that reward pays 1.19 of its 1.25. Asking for a velocity
    (a glide path that slows towards the ground) makes each step's reward say how well it is descending.
    Resting pays only a little more than flying: when it paid up to twice as much, the actors rushed the
    touchdown and crashed at 1.00-1.05 m/s, just over :data:`TOUCHDOWN_SPEED`.
    """
    offset = physics[:, 0:2] - goal[:, 0:2]
    distance = xp.sqrt(horizontal_squared(offset))
    error = physics[:, 6:9] - land_velocity(physics, goal, xp)
    track = xp.exp(-xp.sqrt(squared_length(error)))
    angles = wrap_angle(physics[:, 3:5], xp)
    tilt = xp.abs(angles[:, 0]) + xp.abs(angles[:, 1])
    spin = xp.abs(physics[:, 9]) + xp.abs(physics[:, 10]) + xp.abs(physics[:, 11])
    attitude = 1.0 - 0.25 * xp.minimum(tilt / (math.pi / 2), 1.0) - 0.25 * xp.minimum(spin / 2.0, 1.0)
    flying = track * attitude * (0.5 + 0.5 * xp.exp(-distance))
    total = rotor_speeds[:, 0] + rotor_speeds[:, 1] + rotor_speeds[:, 2] + rotor_speeds[:, 3]
    effort = xp.minimum(total / (4 * hover_rotor_speed()), 1.0)
    resting = (1.25 - LAND_EFFORT_WEIGHT * effort) * xp.exp(-distance / 0.5)
    return xp.where(physics[:, 2] <= 0.0, resting, flying)


def horizontal_squared(vectors: Array) -> Array:
    """x^2 + y^2 of (N, 2) arrays, as plain products (the same bits on numpy and tensors)."""
    return vectors[:, 0] * vectors[:, 0] + vectors[:, 1] * vectors[:, 1]


def largest_tilt(physics: Array, xp: Xp = np) -> Array:
    """The larger of |roll| and |pitch|, wrapped to [0, pi] rad, (N,) of physics rows (N, 12): what the landing's
    contact rule and the training's tilt limit judge."""
    angles = wrap_angle(physics[:, 3:5], xp)
    return xp.maximum(xp.abs(angles[:, 0]), xp.abs(angles[:, 1]))


def ends_in_training(task: "FlightTask") -> bool:
    """True when training ends some of ``task``'s episodes on its own (:meth:`FlightTask.training_end`: at rest,
    or past its tilt limit); for the others the paths skip it, and nothing changes, to the last bit."""
    return task.ends_at_rest or task.tilt_limit is not None


def has_contact_rule(task: "FlightTask") -> bool:
    """True when ``task`` overrides :meth:`FlightTask.contact` (the paths then apply it after each step;
    for the others nothing changes, to the last bit)."""
    return type(task).contact is not FlightTask.contact


def rotor_keywords(task: "FlightTask", rotor_speeds: Any) -> dict:
    """``{"rotor_speeds": rotor_speeds}`` for a task that sees them (``sees_rotor_speeds``), else ``{}``."""
    return {"rotor_speeds": rotor_speeds} if task.sees_rotor_speeds else {}


@dataclasses.dataclass(frozen=True)
class Land(FlightTask):
    """Descend onto the pad, touch down gently, and rest there with the rotors slowed.

    ==========  ==========================================================================================
    start       (evaluation) ``low``-``high`` m up (3-15), within ``offset`` m (3) of the pad on x and y,
                moving: within ``speed`` m/s (1) on each axis, ``angle`` rad (0.1) of roll, pitch and yaw
                and ``rate`` rad/s (0.1). Training draws z from ``train_low`` (0.5) m instead, and starts a
                share ``on_pad`` (0.2) at rest on the pad (within :data:`PAD_RADIUS`, facing any way), so
                that touching down and resting are learned early.
    goal        the pad, :data:`PAD` = (0, 0, 0) m
    state       16 values: :func:`~quadcopter.tasks.takeoff_observation` from the pad (15), and 1 while
                resting on the ground, else 0 (a landing detector: with the 15 alone, resting and hovering
                a centimetre above read nearly alike, and the Udacity simulator's actors kept their rotors
                near the hover speed on the ground)
    action      4 rotor speeds, [0, 900] rev/s
    contact     a step that reaches the ground (z = 0) at a descent of at most ``TOUCHDOWN_SPEED`` (1 m/s),
                a horizontal speed of at most ``TOUCHDOWN_SLIDE`` (0.5 m/s), roll and pitch under
                ``TOUCHDOWN_TILT`` (0.2 rad) is a **touchdown**: the quadcopter rests on its legs (z = 0,
                level, velocity and rates 0, x, y and yaw kept) and the episode goes on. Any other touch
                is a **crash** (terminated). A resting quadcopter whose rotors do not carry its weight is
                pulled back each step (a gentle touch again) and stays; one whose rotors do lifts off.
    reward      :func:`land_reward`: in flight, how closely the velocity follows a glide path to the pad
                that slows towards the ground (:func:`land_velocity`), in [0, 1]; at rest, up to 1.25 on
                the pad's centre with the rotors stopped
    end         a crash (terminated), or the time limit (truncated; 15 s in training, ``TASK_SETTINGS``).
                In training, also the first step taken from rest (terminated, :meth:`final_rest`): it pays
                :func:`rest_worth` of its rotor speeds for :data:`REST_STEPS` (57) more simulator steps,
                as if it rested on, and the episode ends there, as a lunar lander's does; and a step that
                leaves roll or pitch beyond ``tilt_limit`` (1 rad; terminated, paid nothing more). The test
                flights and the evaluation fly on, and judge the rest by the success rule.
    success     truncated, and at every simulator step from ``hold_from`` (10 s) on: resting (z = 0),
                within :data:`PAD_RADIUS` (0.5 m) of the pad's centre, every rotor under
                :data:`SLOW_ROTORS` (0.5) x the hover speed
    ==========  ==========================================================================================
    """

    name: str = "land"
    target: tuple = PAD
    hold_from: float = 10.0
    low: float = 3.0
    high: float = 15.0
    train_low: float = 0.5
    offset: float = 3.0
    speed: float = 1.0
    angle: float = 0.1
    rate: float = 0.1
    on_pad: float = 0.2

    sees_rotor_speeds = True
    ends_at_rest = True
    tilt_limit = 1.0
    state_size = 16

    def _starts(self, draw: Any, n: int, low: float, xp: Xp) -> tuple:
        center = (self.target[0], self.target[1], (low + self.high) / 2)
        half = (self.offset, self.offset, (self.high - low) / 2)
        starts = pushed_starts(draw, n, center, half, self.speed, self.angle, self.rate, xp)
        return starts, xp.zeros((n, 3)) + xp.asarray(self.target)

    def train_starts(self, draw: Any, n: int, xp: Xp = np) -> tuple:
        starts, goals = self._starts(draw, n, self.train_low, xp)
        zeros = xp.zeros((n,))
        near = draw.uniform(-PAD_RADIUS, PAD_RADIUS, (n, 2))  # m: at rest on the pad, not always at its centre
        yaw = draw.uniform(-math.pi, math.pi, (n,))  # rad: facing any way, as touchdowns do
        resting = xp.stack([near[:, 0], near[:, 1]] + [zeros] * 3 + [yaw] + [zeros] * 6, axis=1)
        resting = resting + xp.asarray(self.target + (0.0,) * 9)
        on_pad = draw.uniform(0.0, 1.0, (n,)) < self.on_pad
        return xp.where(on_pad[:, None], resting, starts), goals, xp.ones((n,)) > 0.0

    def test_starts(self, draw: Any, n: int, xp: Xp = np) -> tuple:
        return self._starts(draw, n, self.low, xp)

    def observe(self, physics: Array, goal: Array, xp: Xp = np) -> Array:
        flying = super().observe(physics, goal, xp)
        resting = xp.where(physics[:, 2] <= 0.0, 1.0 + 0.0 * physics[:, 2], 0.0 * physics[:, 2])
        return xp.concatenate([flying, resting[:, None]], axis=1)

    def contact(self, physics: Array, touched: Array, xp: Xp = np) -> tuple:
        gentle = (
            touched
            & (physics[:, 2] <= 0.0)
            & (-physics[:, 8] <= TOUCHDOWN_SPEED)
            & (horizontal_squared(physics[:, 6:8]) <= TOUCHDOWN_SLIDE**2)
            & (largest_tilt(physics, xp) <= TOUCHDOWN_TILT)
        )
        zeros = physics[:, 0] * 0.0
        resting = xp.stack([physics[:, 0], physics[:, 1], zeros, zeros, zeros, physics[:, 5]] + [zeros] * 6, axis=1)
        return xp.where(gentle[:, None], resting, physics), touched & ~gentle

    def reward(self, physics: Array, goal: Array, dynamics: str, xp: Xp = np, rotor_speeds: Array = None) -> Array:
        return land_reward(physics, goal, rotor_speeds, xp)

    def reward_range(self, action_repeat: int) -> tuple[float, float]:
        return (0.0, LAND_REWARD_MAX * (action_repeat + REST_STEPS))  # the last step of a training landing

    def final_rest(
        self, before: Array, physics: Array, goal: Array, dynamics: str, xp: Xp = np, rotor_speeds: Array = None
    ) -> tuple:
        """Training's landings end with the first step taken from rest (z = 0 before it: the contact rule put a
        touchdown there), paying :func:`rest_worth` of its rotor speeds for :data:`REST_STEPS` more simulator
        steps, whether it stays at rest or its rotors lift it off (they are then fast, and worth little). Not
        the touchdown's own step: its rotor speeds were chosen in the air, where a gentle touchdown needs them
        near the hover speed. A lift-off ends it too: an actor that kept its rotors up at rest bounced on the
        pad and, with lift-offs going on, never saw what resting was worth (docs/tasks.md, "Choices")."""
        rested = before[:, 2] <= 0.0
        return rested, REST_STEPS * rest_worth(physics, goal, rotor_speeds, xp)

    def track(
        self, held: Array, physics: Array, time: Array, goal: Array, xp: Xp = np, rotor_speeds: Array = None
    ) -> Array:
        judged = time >= self.hold_from - 0.5 * DT
        slow = (
            xp.maximum(
                xp.maximum(rotor_speeds[:, 0], rotor_speeds[:, 1]), xp.maximum(rotor_speeds[:, 2], rotor_speeds[:, 3])
            )
            <= SLOW_ROTORS * hover_rotor_speed()
        )
        on_pad = horizontal_squared(physics[:, 0:2] - goal[:, 0:2]) <= PAD_RADIUS**2
        return held & (~judged | ((physics[:, 2] <= 0.0) & on_pad & slow))


TASKS = {"takeoff": FlightTask, "hover": Hover, "reach": Reach, "land": Land}
"""The built-in tasks by name: ``train --task NAME``, ``evaluate``, the Gymnasium ids."""

TASK_SETTINGS = {"land": {"runtime": 15.0, "env_steps": 384_000, "late_actor_lr_factor": 1.0}}
"""Training settings (:class:`~quadcopter.training.TrainSettings`) of a built-in task that differ from the
defaults (docs/tasks.md, "Choices"). The landing's episodes last 15 s: from 15 m up it needs time to come
down gently and then to show that it rests (its success is judged from 10 s on); it trains for 384,000
environment steps, one and a half times the takeoff's (on screen seed 100 of the rigid body, 76% with
256,000, 89-100% with 384,000); and its actor keeps its learning rate to the end (no late, slower actor:
its landings are still being learned late in the run; Udacity screen seeds 100-104, 57-97% with the tenth
from 153,600 steps, 88-100% without)."""


def task_runtime(name: str) -> float:
    """The episode length, s, that the task ``name`` trains with by default (:data:`TASK_SETTINGS`)."""
    return TASK_SETTINGS.get(name, {}).get("runtime", TAKEOFF_RUNTIME)


def load_task(name: str) -> FlightTask:
    """The task called ``name``: a built-in one (:data:`TASKS`), or ``MODULE:CLASS``, a learner's own
    :class:`FlightTask` subclass in a module importable from the current folder (``mytasks.py``), made with
    no arguments and checked with :func:`check_task`. ``ValueError`` naming what is wrong."""
    if name in TASKS:
        return TASKS[name]()
    if name in _LOADED:
        return _LOADED[name]
    module_name, _, class_name = name.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"--task takes one of {sorted(TASKS)} or MODULE:CLASS (a task of your own); got {name!r}")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"task {name!r}: cannot import {module_name!r} ({error})") from None
    task_class = getattr(module, class_name, None)
    if not (isinstance(task_class, type) and issubclass(task_class, FlightTask)):
        raise ValueError(f"task {name!r}: {module_name}.{class_name} must be a subclass of quadcopter.FlightTask")
    _LOADED[name] = check_task(task_class())
    return _LOADED[name]


_LOADED: dict[str, FlightTask] = {}
"""The learners' tasks loaded so far, by name: each is imported and checked once per process."""


def check_task(task: FlightTask, dynamics: str = "udacity") -> FlightTask:
    """Run every function of ``task`` on a few numpy rows; return the task, or raise ``ValueError`` naming the
    task and the function that failed or gave a wrong shape or a non-finite value. The fast path's check on
    TensorFlow tensors, which also catches numpy-only code, is :func:`quadcopter.tensor_task.check_task`
    (``train`` runs both before it starts; this module stays free of TensorFlow)."""
    limit = task.tilt_limit
    if limit is not None and not (isinstance(limit, (int, float)) and 0.0 < limit <= math.pi):
        raise ValueError(f"task {task_label(task)}: tilt_limit must be None or in (0, pi] rad; got {limit!r}")
    n = CHECK_ROWS
    starts, goals, in_air = task_call(task, "train_starts", np, NumpyDraw(np.random.default_rng(0)), n)
    expect_shape(task, "train_starts", starts, (n, 12))
    expect_shape(task, "train_starts (goals)", goals, (n, 3))
    expect_shape(task, "train_starts (in_air)", in_air, (n,), kind="bool")
    expect_shape(
        task, "test_starts", task_call(task, "test_starts", np, NumpyDraw(np.random.default_rng(1)), n)[0], (n, 12)
    )
    check_results(task, every_function(task, np, starts, goals, NumpyDraw(np.random.default_rng(2)), dynamics))
    return task


CHECK_ROWS = 5
"""Rows of states :func:`check_task` runs a task's functions on."""


def task_label(task: FlightTask) -> str:
    """``module.Class`` of a task, as the checks name it."""
    return f"{type(task).__module__}.{type(task).__qualname__}"


def task_call(task: FlightTask, function_name: str, xp: Any, *args: Any, **keywords: Any) -> Any:
    """``task.function_name(*args, xp=xp, **keywords)``; whatever the learner's code raises comes back as a
    ``ValueError`` naming the task, the function and where it ran."""
    try:
        return getattr(task, function_name)(*args, xp=xp, **keywords)
    except Exception as error:  # the learner's code: whatever it raises is named
        where = "numpy" if xp is np else "TensorFlow tensors (the fast path)"
        raise ValueError(
            f"task {task_label(task)}: {function_name}() failed on {where}: {type(error).__name__}: {error}"
        ) from None


def expect_shape(task: FlightTask, function_name: str, value: Any, shape: tuple, kind: str = "finite") -> None:
    """``ValueError`` naming the task and function unless ``value`` has ``shape`` (and, for kind "finite",
    only finite values)."""
    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"task {task_label(task)}: {function_name}() must return shape {shape}; got {array.shape}")
    if kind == "finite" and not np.all(np.isfinite(array.astype(float))):
        raise ValueError(f"task {task_label(task)}: {function_name}() returned a value that is not finite: {array}")


def every_function(task: FlightTask, xp: Any, physics: Any, goal: Any, draw: Any, dynamics: str) -> tuple:
    """The results of every function of ``task`` on the rows ``physics`` (n, 12) and ``goal`` (n, 3), on
    numpy (``xp`` np) or TensorFlow (``xp`` the tensor math): starts, observation, reward, success, the
    contact rule's physics and crashes, and training's own ends and their value."""
    n = CHECK_ROWS
    time = physics[:, 0] * 0.0 + 6.0
    rotors = rotor_keywords(task, physics[:, 0:4] * 0.0 + hover_rotor_speed())
    return (
        task_call(task, "train_starts", xp, draw, n)[0],
        task_call(task, "observe", xp, physics, goal),
        task_call(task, "reward", xp, physics, goal, dynamics, **rotors),
        task_call(task, "track", xp, physics[:, 0] >= -math.inf, physics, time, goal, **rotors),
        *task_call(task, "contact", xp, physics, physics[:, 2] <= 0.5),
        *task_call(task, "training_end", xp, physics, physics, goal, dynamics, **rotors),
    )


def check_results(task: FlightTask, results: tuple) -> None:
    """Check the shapes and values of :func:`every_function`'s results."""
    n = CHECK_ROWS
    expect_shape(task, "train_starts", results[0], (n, 12))
    expect_shape(task, "observe", results[1], (n, task.state_size))
    expect_shape(task, "reward", results[2], (n,))
    expect_shape(task, "track", results[3], (n,), kind="bool")
    expect_shape(task, "contact (physics)", results[4], (n, 12))
    expect_shape(task, "contact (crashed)", results[5], (n,), kind="bool")
    expect_shape(task, "training_end (ended)", results[6], (n,), kind="bool")
    expect_shape(task, "training_end (value)", results[7], (n,))
