"""Tasks: what the quadcopter is asked to do, as states, actions, rewards and episode ends.

:class:`TakeoffTask` is the project's task (``task.Task``); :class:`ReachTargetTask` is the
original Udacity sample task; :class:`HoverTask` starts at the target. All share
:class:`QuadcopterTask`, which runs the sub-steps, clips actions and tells a crash (terminated)
from the time limit (truncated).

The takeoff's observation and reward are functions of arrays with any leading shape, so the same
lines serve one quadcopter here and N of them in :class:`VectorTakeoffTask`.
"""

import math

import numpy as np

from .sim import PhysicsSim, VectorPhysicsSim

ACTION_LOW = 0.0  # rev/s
ACTION_HIGH = 900.0  # rev/s
DEFAULT_TARGET = (0.0, 0.0, 10.0)  # m

# Takeoff success: the episode runs to its time limit and ends within this many metres of the
# target altitude.
SUCCESS_TOLERANCE = 1.0  # m

# Scales that bring the takeoff observation to order one.
POSITION_SCALE = 10.0  # m
VELOCITY_SCALE = 5.0  # m/s
RATE_SCALE = 5.0  # rad/s


def wrap_angle(angle, xp=np):
    """Angles (rad, any shape) wrapped to [-pi, pi). ``xp`` is numpy, or :data:`TENSOR_MATH` for tensors."""
    return xp.mod(xp.asarray(angle) + math.pi, 2 * math.pi) - math.pi


def takeoff_observation(pose, velocity, angular_v, target, xp=np):
    """The takeoff state: shape (..., 12) float64 from pose (..., 6), velocity (..., 3), angular_v (..., 3).

    See :class:`TakeoffTask` for the layout. ``xp`` is numpy, or :data:`TENSOR_MATH` for float64
    TensorFlow tensors (the fused training path runs these same lines).
    """
    pose = xp.asarray(pose)
    return xp.concatenate(
        [
            (pose[..., :3] - target) / POSITION_SCALE,
            xp.asarray(velocity) / VELOCITY_SCALE,
            wrap_angle(pose[..., 3:6], xp),
            xp.asarray(angular_v) / RATE_SCALE,
        ],
        axis=-1,
    )


def takeoff_reward(pose, velocity, angular_v, target, xp=np):
    """Reward of one simulator step for the takeoff, shape (...) from arrays as in ``takeoff_observation``.

    r = 1 - 0.2 min(|z - z*| / 10, 1) - 0.2 min(|z - z*| / 2, 1) - 0.1 min(|xy - xy*| / 10, 1)
          - 0.2 min(tilt / (pi / 2), 1) - 0.2 min(spin / 2, 1) - 0.1 min(|v_z| / 5, 1) * near,
    with tilt = |phi| + |theta| (wrapped), spin = |roll rate| + |pitch rate| (rad/s) and
    near = max(0, 1 - |z - z*| / 2). Always in [0, 1].
    Being alive is worth up to 1 a step, so a crash (which ends the episode) costs every reward
    the rest of the episode would have brought; the terms pull up to the target altitude (a wide
    term from 10 m away, and a steep one within 2 m, because success is judged to within 1 m), keep
    the quadcopter over its start, level and not spinning (an immediate signal for the rotor
    differences), and settle it once near the target.
    """
    pose = xp.asarray(pose)
    angular_v = xp.asarray(angular_v)
    error_z = xp.abs(pose[..., 2] - target[2])
    error_xy = xp.hypot(pose[..., 0] - target[0], pose[..., 1] - target[1])
    angles = wrap_angle(pose[..., 3:5], xp)
    tilt = xp.abs(angles[..., 0]) + xp.abs(angles[..., 1])
    spin = xp.abs(angular_v[..., 0]) + xp.abs(angular_v[..., 1])
    near = xp.maximum(1.0 - error_z / 2.0, 0.0)
    speed_z = xp.abs(xp.asarray(velocity)[..., 2])
    return (
        1.0
        - 0.2 * xp.minimum(error_z / 10.0, 1.0)
        - 0.2 * xp.minimum(error_z / 2.0, 1.0)
        - 0.1 * xp.minimum(error_xy / 10.0, 1.0)
        - 0.2 * xp.minimum(tilt / (math.pi / 2), 1.0)
        - 0.2 * xp.minimum(spin / 2.0, 1.0)
        - 0.1 * xp.minimum(speed_z / 5.0, 1.0) * near
    )


def takeoff_success(final_z, truncated, target_z=DEFAULT_TARGET[2]):
    """The takeoff rule: the episode ran to its time limit and ended within 1 m of the target altitude."""
    return np.logical_and(truncated, np.abs(np.asarray(final_z) - target_z) <= SUCCESS_TOLERANCE)


def sample_takeoff_starts(rng, n, max_height=0.5, max_vertical_speed=0.1):
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


def check_action(rotor_speeds, shape):
    """``rotor_speeds`` as a float array of ``shape``, finite, clipped to [ACTION_LOW, ACTION_HIGH].

    Raises ``ValueError`` naming the value and the accepted shape and range.
    """
    action = np.asarray(rotor_speeds, dtype=float)
    if action.shape != shape or not np.all(np.isfinite(action)):
        shown = rotor_speeds if action.size <= 16 else f"an array of shape {action.shape}"
        raise ValueError(
            f"rotor speeds must be finite with shape {shape} (clipped to [{ACTION_LOW}, {ACTION_HIGH}] rev/s); "
            f"got {shown!r}"
        )
    return np.clip(action, ACTION_LOW, ACTION_HIGH)


class QuadcopterTask:
    """What every task shares: a ``PhysicsSim``, ``action_repeat`` sub-steps per action, episode ends.

    Subclasses define ``state_size``, :meth:`observe` (the state after a step) and
    :meth:`step_reward` (the reward of one simulator step).

    After each :meth:`step`, ``terminated`` is True when the quadcopter touched a bound (a crash,
    the end of the episode's value) and ``truncated`` when the time limit ended it (learning should
    bootstrap through it).
    """

    action_size = 4
    action_low = ACTION_LOW
    action_high = ACTION_HIGH

    def __init__(self, init_pose=None, init_velocities=None, init_angle_velocities=None, runtime=5.0,
                 target_pos=None, dynamics="udacity", action_repeat=3):
        if not (isinstance(action_repeat, (int, np.integer)) and action_repeat >= 1):
            raise ValueError(f"action_repeat must be an integer >= 1; got {action_repeat!r}")
        target = np.array(DEFAULT_TARGET if target_pos is None else target_pos, dtype=float)
        if target.shape != (3,) or not np.all(np.isfinite(target)):
            raise ValueError(f"target_pos must be 3 finite values (x, y, z in m); got {target_pos!r}")
        self.sim = PhysicsSim(init_pose, init_velocities, init_angle_velocities, runtime, dynamics)
        self.action_repeat = int(action_repeat)
        self.target_pos = target
        self.terminated = False
        self.truncated = False

    def observe(self):
        raise NotImplementedError

    def step_reward(self):
        raise NotImplementedError

    def reset(self):
        """Start a new episode; returns the initial state."""
        self.sim.reset()
        self.terminated = False
        self.truncated = False
        return self.observe()

    def step(self, rotor_speeds):
        """Apply 4 rotor speeds (rev/s) for ``action_repeat`` simulator steps.

        Finite speeds are clipped to [action_low, action_high]; non-finite or wrongly shaped ones
        raise ``ValueError`` before the simulator is touched. Sub-stepping stops once the
        simulator is done. Returns ``(next_state, reward, done)``, the reward summed over the
        sub-steps taken.
        """
        action = check_action(rotor_speeds, (self.action_size,))
        reward = 0.0
        for _ in range(self.action_repeat):
            done = self.sim.next_timestep(action)
            reward += self.step_reward()
            if done:
                break
        self.terminated = bool(self.sim.out_of_bounds)
        self.truncated = bool(done and not self.terminated)
        return self.observe(), float(reward), bool(done)


class TakeoffTask(QuadcopterTask):
    """Take off from the ground and hold the target altitude (default 10 m) until the time limit.

    This is ``task.Task``. Constructor as the Udacity ``Task``, plus ``dynamics`` and ``action_repeat``.

    **Start**: ``init_pose`` (default (0, 0, 0, 0, 0, 0): at rest on the ground, level), zero
    velocities unless given; ``runtime`` 5 s; target (0, 0, 10) m unless ``target_pos`` is given.

    **Action** (``action_size`` = 4): rotor speeds in rev/s, clipped to [0, 900]. Hover is about
    404 rev/s on each rotor; below it, a start at z = 0 ends on the first step (the z = 0 bound).

    **State** (``state_size`` = 12), after the last sub-step:

    ==========  =====================================  ======
    index       meaning                                unit
    ==========  =====================================  ======
    0, 1, 2     (x, y, z) - target, divided by 10      10 m
    3, 4, 5     (vx, vy, vz), earth frame, / 5          5 m/s
    6, 7, 8     (phi, theta, psi) wrapped to [-pi, pi)  rad
    9, 10, 11   the simulator's angular_v, / 5          5 rad/s
    ==========  =====================================  ======

    **Reward**: the sum over the sub-steps of :func:`takeoff_reward` (each in [0, 1]), so a step's
    reward is within ``reward_range`` = (0, action_repeat).

    **End**: ``terminated`` when the quadcopter touches a bound (z = 0 counts: a crash);
    ``truncated`` when ``time > runtime``. ``success`` (after the episode) follows the takeoff rule:
    truncated and within 1 m of the target altitude.
    """

    state_size = 12

    def __init__(self, init_pose=None, init_velocities=None, init_angle_velocities=None, runtime=5.0,
                 target_pos=None, dynamics="udacity", action_repeat=3):
        if init_pose is None:
            init_pose = np.zeros(6)
        super().__init__(init_pose, init_velocities, init_angle_velocities, runtime, target_pos, dynamics,
                         action_repeat)
        # The lowest and highest reward of one step (action_repeat sub-steps, each in [0, 1]);
        # DDPG bounds its critic's targets with it.
        self.reward_range = (0.0, float(self.action_repeat))

    def observe(self):
        return takeoff_observation(self.sim.pose, self.sim.v, self.sim.angular_v, self.target_pos)

    def step_reward(self):
        return float(takeoff_reward(self.sim.pose, self.sim.v, self.sim.angular_v, self.target_pos))

    @property
    def success(self):
        return bool(takeoff_success(self.sim.pose[2], self.truncated, self.target_pos[2]))


class HoverTask(TakeoffTask):
    """Hold the target position, starting there (default (0, 0, 10), at rest). State and reward as the takeoff."""

    def __init__(self, init_pose=None, init_velocities=None, init_angle_velocities=None, runtime=5.0,
                 target_pos=None, dynamics="udacity", action_repeat=3):
        target = DEFAULT_TARGET if target_pos is None else target_pos
        if init_pose is None:
            init_pose = np.concatenate([np.asarray(target, dtype=float), np.zeros(3)])
        super().__init__(init_pose, init_velocities, init_angle_velocities, runtime, target, dynamics,
                         action_repeat)


class ReachTargetTask(QuadcopterTask):
    """The original Udacity sample task: fly towards ``target_pos``.

    **State** (``state_size`` = 6 * action_repeat = 18): the pose (x, y, z, phi, theta, psi; m, rad)
    after each sub-step, concatenated; if the episode ends early, the last pose fills the rest.

    **Action**: 4 rotor speeds, rev/s, clipped to [0, 900]. **Reward** per sub-step:
    1 - 0.3 * sum(|(x, y, z) - target|), summed over the sub-steps. **Start**: the Udacity
    default pose (0, 0, 10, 0, 0, 0) unless given; target (0, 0, 10) unless given.
    **End**: a bound (terminated) or the time limit (truncated).
    """

    def __init__(self, init_pose=None, init_velocities=None, init_angle_velocities=None, runtime=5.0,
                 target_pos=None, dynamics="udacity", action_repeat=3):
        super().__init__(init_pose, init_velocities, init_angle_velocities, runtime, target_pos, dynamics,
                         action_repeat)
        self.state_size = 6 * self.action_repeat
        self._poses = []

    def reset(self):
        self._poses = []
        self.sim.reset()
        self.terminated = self.truncated = False
        return np.tile(self.sim.pose, self.action_repeat)

    def step_reward(self):
        self._poses.append(self.sim.pose)
        return 1.0 - 0.3 * float(np.abs(self.sim.pose[:3] - self.target_pos).sum())

    def step(self, rotor_speeds):
        self._poses = []
        return super().step(rotor_speeds)

    def observe(self):
        poses = self._poses + [self._poses[-1]] * (self.action_repeat - len(self._poses))
        return np.concatenate(poses)


class VectorTakeoffTask:
    """N takeoff episodes side by side on a :class:`VectorPhysicsSim`, each restarting when it ends.

    States, actions and rewards are those of :class:`TakeoffTask`, row by row, so that an agent
    trained here flies ``task.Task``. Starts are drawn by :func:`sample_takeoff_starts` from ``rng``.

    :meth:`step` returns ``(next_states, rewards, terminated, truncated)``; for a row that ended,
    ``next_states`` is its final state, and the row is restarted: the new episode's first state
    is in :attr:`states` (as vector environments usually do it). Finished episodes are reported in
    :attr:`finished`: a list of dicts (env, episode_return, length, final_z, success) since the last call of
    :meth:`pop_finished`.
    """

    state_size = TakeoffTask.state_size
    action_size = 4
    action_low = ACTION_LOW
    action_high = ACTION_HIGH

    def __init__(self, num_envs, rng, runtime=5.0, target_pos=None, dynamics="udacity", action_repeat=3,
                 max_start_height=0.5, max_start_vertical_speed=0.1):
        if not (isinstance(num_envs, (int, np.integer)) and num_envs >= 1):
            raise ValueError(f"num_envs must be an integer >= 1; got {num_envs!r}")
        if not (isinstance(action_repeat, (int, np.integer)) and action_repeat >= 1):
            raise ValueError(f"action_repeat must be an integer >= 1; got {action_repeat!r}")
        self.num_envs = int(num_envs)
        self.rng = rng
        self.action_repeat = int(action_repeat)
        self.target_pos = np.array(DEFAULT_TARGET if target_pos is None else target_pos, dtype=float)
        self._start = dict(max_height=max_start_height, max_vertical_speed=max_start_vertical_speed)
        init_pose, init_velocities = sample_takeoff_starts(rng, self.num_envs, **self._start)
        self.sim = VectorPhysicsSim(init_pose, init_velocities, runtime=runtime, dynamics=dynamics)
        self.returns = np.zeros(self.num_envs)
        self.lengths = np.zeros(self.num_envs, dtype=int)
        self.finished = []
        self.states = self._observe()

    def _observe(self):
        return takeoff_observation(self.sim.pose, self.sim.v, self.sim.angular_v, self.target_pos)

    def reset(self):
        """Restart every row from a new random start; returns the states (N, 12)."""
        self._restart(np.arange(self.num_envs))
        return self.states

    def _restart(self, rows):
        init_pose, init_velocities = sample_takeoff_starts(self.rng, len(rows), **self._start)
        self.sim.reset(rows, init_pose=init_pose, init_velocities=init_velocities)
        self.returns[rows] = 0.0
        self.lengths[rows] = 0
        self.states = self._observe()

    def step(self, rotor_speeds):
        """Apply rotor speeds (N, 4) to every row for ``action_repeat`` sub-steps (see the class doc)."""
        action = check_action(rotor_speeds, (self.num_envs, self.action_size))
        rewards = np.zeros(self.num_envs)
        active = np.ones(self.num_envs, dtype=bool)
        terminated = np.zeros(self.num_envs, dtype=bool)
        for _ in range(self.action_repeat):
            # Rows that ended in an earlier sub-step keep stepping in the simulator, but earn
            # nothing, keep their final state and cannot crash any more, as TakeoffTask.step
            # (which stops) would.
            frozen = np.flatnonzero(~active)
            saved = [(array, array[frozen].copy()) for array in (self.sim.pose, self.sim.v, self.sim.angular_v)]
            done = self.sim.next_timestep(action)
            for array, values in saved:
                array[frozen] = values
            step_rewards = takeoff_reward(self.sim.pose, self.sim.v, self.sim.angular_v, self.target_pos)
            rewards += np.where(active, step_rewards, 0.0)
            terminated |= active & self.sim.out_of_bounds
            active &= ~done
        truncated = done & ~terminated
        next_states = self._observe()
        self.returns += rewards
        self.lengths += 1
        ended = np.flatnonzero(done)
        for i in ended:
            self.finished.append(dict(
                env=int(i), episode_return=float(self.returns[i]), length=int(self.lengths[i]),
                final_z=float(self.sim.pose[i, 2]), success=bool(takeoff_success(
                    self.sim.pose[i, 2], truncated[i], self.target_pos[2])),
            ))
        self.states = next_states
        if len(ended):
            self._restart(ended)
        return next_states, rewards, terminated, truncated

    def pop_finished(self):
        """The episodes finished since the last call, as a list of dicts, and forget them."""
        finished, self.finished = self.finished, []
        return finished
