"""N episodes of a task side by side on the numpy simulator, each restarting when it ends.

:class:`VectorTask` is the numpy path of training and the evaluation's flights: the task's own functions
(:class:`~quadcopter.task_specs.FlightTask`) on the rows of a :class:`~quadcopter.sim.VectorPhysicsSim`.
Row ``i`` is one episode as the scalar Udacity loop would fly it, and the fused TensorFlow path
(:func:`~quadcopter.tensor_task.task_step`) gives the same episodes to round-off.
"""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import randomise
from .sim import VectorPhysicsSim
from .task_specs import FlightTask, NumpyDraw, ends_in_training, has_contact_rule, rotor_keywords
from .tasks import ACTION_HIGH, ACTION_LOW, DEFAULT_TARGET, TAKEOFF_RUNTIME, check_action, check_action_repeat


class VectorStep(tuple):
    """What :meth:`VectorTask.step` produces, all arrays with N rows. It unpacks as
    ``next_states, rewards, terminated, truncated`` (as the step always returned), and also holds
    ``states``, the states to act on next, so that nothing has to be read back from the task:

    * ``next_states`` (N, state_size): the states the step ended in, before any restart (the replay
      buffer's next states);
    * ``rewards`` (N,): summed over the sub-steps;
    * ``terminated`` (N,) bool: a bound was touched (a crash); ``truncated`` (N,) bool: the time limit;
    * ``states`` (N, state_size): ``next_states`` with the rows that ended restarted.
    """

    states: np.ndarray

    def __new__(
        cls,
        next_states: np.ndarray,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        states: np.ndarray,
    ) -> "VectorStep":
        step = super().__new__(cls, (next_states, rewards, terminated, truncated))
        step.states = states
        return step

    next_states = property(lambda self: self[0])
    rewards = property(lambda self: self[1])
    terminated = property(lambda self: self[2])
    truncated = property(lambda self: self[3])


class VectorTask:
    """N episodes of ``task`` side by side on a :class:`VectorPhysicsSim`, each restarting when it ends.

    States, actions, rewards and success are the task's (:class:`~quadcopter.task_specs.FlightTask`; by
    default the takeoff to ``target_pos`` with a share ``air_starts`` of its starts around the target,
    default 0: every start on the ground, as the evaluation's), row by row. Starts and goals are drawn
    with the task's ``train_starts`` from ``rng``.

    :meth:`step` returns ``(next_states, rewards, terminated, truncated)``; for a row that ended,
    ``next_states`` is its final state, and the row is restarted: the new episode's first state
    is in :attr:`states` (as vector environments usually do it). Finished episodes are reported in
    :attr:`finished`: a list of dicts (env, episode_return, length, final_z, success, air_start)
    since the last call of :meth:`pop_finished`.

    ``randomisation`` (a :class:`quadcopter.randomise.Randomisation`, default none) gives each episode its own
    body factors and action delay, drawn from ``rng`` when it starts, and noise on the states it observes.
    ``training_ends`` (training's, default False: the evaluation's) ends the episodes where the task ends them
    in training (the landing: at rest, paying the rest's value, and past its tilt limit;
    :meth:`~quadcopter.task_specs.FlightTask.training_end`).
    """

    action_size = 4
    action_low = ACTION_LOW
    action_high = ACTION_HIGH

    def __init__(
        self,
        num_envs: int,
        rng: np.random.Generator,
        runtime: float = TAKEOFF_RUNTIME,
        target_pos: Any = None,
        dynamics: str = "udacity",
        action_repeat: int = 3,
        air_starts: float = 0.0,
        task: Any = None,
        airframe: Any = None,
        randomisation: randomise.Randomisation | None = None,
        training_ends: bool = False,
    ) -> None:
        if not (isinstance(num_envs, (int, np.integer)) and num_envs >= 1):
            raise ValueError(f"num_envs must be an integer >= 1; got {num_envs!r}")
        check_action_repeat(action_repeat)
        if not (isinstance(air_starts, (int, float)) and 0.0 <= air_starts <= 1.0):
            raise ValueError(f"air_starts must be a share in [0, 1]; got {air_starts!r}")
        target = tuple(float(t) for t in (DEFAULT_TARGET if target_pos is None else target_pos))
        self.task = task or FlightTask(target=target, air_starts=float(air_starts))
        self.target_pos = np.array(self.task.target, dtype=float)  # the task's goal (a drawn goal: goals)
        self.state_size = self.task.state_size
        self.contact_rule = has_contact_rule(self.task)
        self.training_ends = bool(training_ends) and ends_in_training(self.task)
        self.num_envs = int(num_envs)
        self.draw = NumpyDraw(rng)
        self.action_repeat = int(action_repeat)
        starts, self.goals, self.in_air = self.task.train_starts(self.draw, self.num_envs)
        self.sim = VectorPhysicsSim(
            starts[:, 0:6], starts[:, 6:9], starts[:, 9:12], runtime=runtime, dynamics=dynamics, airframe=airframe
        )
        # The airframe's action range (the Udacity quadcopter's: [0, 900] rev/s).
        self.action_low, self.action_high = self.sim.airframe.min_rotor_speed, self.sim.airframe.max_rotor_speed
        self.returns = np.zeros(self.num_envs)
        self.lengths = np.zeros(self.num_envs, dtype=int)
        self.held = np.ones(self.num_envs, dtype=bool)
        self.finished: list[dict] = []
        self._set_randomisation(randomisation or randomise.PRESETS["off"])
        self.states = self._observe()

    def _set_randomisation(self, randomisation: randomise.Randomisation) -> None:
        """Draw every row's body and delay (:mod:`quadcopter.randomise`); a row draws again when it restarts."""
        self.randomisation = randomise.check_dynamics(randomisation, self.sim.dynamics)
        n = self.num_envs
        self.sensor_noise = np.zeros((n, 12))
        self.delays = np.zeros(n)
        self.pending = np.zeros((n, randomise.MAX_DELAY_STEPS, 4))
        self.fresh = np.ones(n, dtype=bool)
        self._draw_randomisation(np.arange(n))
        self._draw_sensor_noise()

    def _draw_randomisation(self, rows: np.ndarray) -> None:
        randomisation, k = self.randomisation, len(rows)
        if randomisation.changes_body:
            if self.sim.body_factors is None:
                self.sim.body_factors = np.ones((self.num_envs, 3))
            self.sim.body_factors[rows] = randomise.draw_factors(randomisation, self.draw, k, np)
        if randomisation.delays:
            self.delays[rows] = randomise.draw_delays(randomisation, self.draw, k, np)
        self.fresh[rows] = True

    def _draw_sensor_noise(self) -> None:
        """The noise on the state observed until the next step (the same for every observation of it)."""
        if self.randomisation.noise:
            self.sensor_noise = randomise.observation_noise(self.randomisation, self.draw, self.num_envs)

    @property
    def rng(self) -> np.random.Generator:
        """The numpy Generator that the starts are drawn from (a Gymnasium env sets its own)."""
        return self.draw.rng

    @rng.setter
    def rng(self, value: np.random.Generator) -> None:
        self.draw = NumpyDraw(value)

    @property
    def physics(self) -> np.ndarray:
        """The simulator's state as the task's functions take it: (N, 12) pose, velocity, angular_v."""
        return np.concatenate([self.sim.pose, self.sim.v, self.sim.angular_v], axis=1)

    def _observe(self):
        physics = self.physics + self.sensor_noise if self.randomisation.noise else self.physics
        return self.task.observe(physics, self.goals)

    def reset(self) -> np.ndarray:
        """Restart every row from a new random start; returns the states (N, state_size)."""
        self._draw_sensor_noise()
        self._restart(np.arange(self.num_envs))
        return self.states

    def restart_from(self, starts: np.ndarray, goals: np.ndarray | None = None) -> np.ndarray:
        """Restart every row from the given starts (N, 12) (pose, velocity, angular_v) towards ``goals``
        (N, 3; default: the rows' goals as they are); returns the states (N, state_size)."""
        starts = np.asarray(starts, dtype=float)
        self.sim.reset(init_pose=starts[:, 0:6], init_velocities=starts[:, 6:9], init_angle_velocities=starts[:, 9:12])
        if goals is not None:
            self.goals = np.array(goals, dtype=float)
        self.in_air[:] = False
        self._draw_randomisation(np.arange(self.num_envs))
        self._draw_sensor_noise()
        self._clear(np.arange(self.num_envs))
        return self.states

    def _restart(self, rows) -> None:
        starts, goals, in_air = self.task.train_starts(self.draw, len(rows))
        self.sim.reset(
            rows, init_pose=starts[:, 0:6], init_velocities=starts[:, 6:9], init_angle_velocities=starts[:, 9:12]
        )
        self.goals[rows] = goals
        self.in_air[rows] = in_air
        self._draw_randomisation(rows)
        self._clear(rows)

    def _clear(self, rows) -> None:
        self.returns[rows] = 0.0
        self.lengths[rows] = 0
        self.held[rows] = True
        self.states = self._observe()

    def step(self, rotor_speeds: ArrayLike) -> "VectorStep":
        """Apply rotor speeds (N, 4) to every row for ``action_repeat`` sub-steps (see the class doc).
        Returns a :class:`VectorStep`; rows that ended are restarted, and their finished episodes
        wait in :meth:`pop_finished`."""
        action = check_action(rotor_speeds, (self.num_envs, self.action_size), self.action_high, self.action_low)
        if self.randomisation.delays:  # each row's action of ``delay`` steps before
            action, self.pending = randomise.delay_actions(action, self.pending, self.fresh, self.delays, np)
            self.fresh[:] = False
        rewards = np.zeros(self.num_envs)
        active = np.ones(self.num_envs, dtype=bool)
        terminated = np.zeros(self.num_envs, dtype=bool)
        rotors = rotor_keywords(self.task, action)
        before = self.physics  # a copy (for training_end)
        for _ in range(self.action_repeat):
            # Rows that ended in an earlier sub-step are not stepped (the simulator's mask): they earn
            # nothing and keep their final state, as TakeoffTask.step, which stops, would.
            done = self.sim.next_timestep(action, active=active)
            if self.contact_rule:  # a gentle touchdown rests instead of ending the episode (Land)
                physics, crashed = self.task.contact(self.physics, active & self.sim.out_of_bounds)
                done = self.sim.settle(active & self.sim.out_of_bounds & ~crashed, physics)
            physics = self.physics
            held = self.task.track(self.held, physics, self.sim.time, self.goals, **rotors)
            self.held = np.where(active, held, self.held)
            step_rewards = self.task.reward(physics, self.goals, self.sim.dynamics, **rotors)
            rewards += np.where(active, step_rewards, 0.0)
            terminated |= active & self.sim.out_of_bounds
            active &= ~done
        if self.training_ends:  # a training landing ends at rest or past its tilt limit (FlightTask.training_end)
            ended, value = self.task.training_end(before, self.physics, self.goals, self.sim.dynamics, **rotors)
            ended &= ~done
            rewards += np.where(ended, value, 0.0)
            terminated |= ended
            done = done | ended
        truncated = done & ~terminated
        self._draw_sensor_noise()
        next_states = self._observe()
        self.returns += rewards
        self.lengths += 1
        success = self.task.success(truncated, self.held)
        ended = np.flatnonzero(done)
        for i in ended:
            self.finished.append(
                dict(
                    env=int(i),
                    episode_return=float(self.returns[i]),
                    length=int(self.lengths[i]),
                    final_z=float(self.sim.pose[i, 2]),
                    success=bool(success[i]),
                    air_start=bool(self.in_air[i]),
                )
            )
        self.states = next_states
        if len(ended):
            self._restart(ended)
        return VectorStep(next_states, rewards, terminated, truncated, self.states)

    def pop_finished(self) -> list[dict]:
        """The episodes finished since the last call, as a list of dicts, and forget them."""
        finished, self.finished = self.finished, []
        return finished


VectorTakeoffTask = VectorTask
"""The name of :class:`VectorTask` from when the takeoff was its only task."""


class ScalarTask:
    """One episode at a time of a :class:`~quadcopter.task_specs.FlightTask`, with the Udacity ``Task``
    API: :meth:`reset` -> state, :meth:`step` (4 rotor speeds, rev/s) -> ``(next_state, reward, done)``,
    and after a step ``terminated``, ``truncated`` and ``success``. It runs the task's own functions
    through a :class:`VectorTask` of one row, so a Udacity loop sees exactly the episodes of the fast
    paths. ``seed`` seeds the starts (the task's training starts), and ``randomisation`` gives each episode its
    own body, delay and observation noise (:mod:`quadcopter.randomise`), as ``train --randomise`` does. Its
    episodes are training's: a landing ends at rest or past its tilt limit (``training_ends``,
    :meth:`VectorTask.__init__`'s)."""

    action_size = 4
    action_low = ACTION_LOW
    action_high = ACTION_HIGH

    def __init__(
        self,
        task: Any = None,
        runtime: float = TAKEOFF_RUNTIME,
        dynamics: str = "udacity",
        action_repeat: int = 3,
        seed: int | None = None,
        airframe: Any = None,
        randomisation: randomise.Randomisation | None = None,
        training_ends: bool = True,
    ) -> None:
        self.task = task or FlightTask()
        self.envs = VectorTask(
            1,
            np.random.default_rng(seed),
            runtime,
            dynamics=dynamics,
            action_repeat=action_repeat,
            task=self.task,
            airframe=airframe,
            randomisation=randomisation,
            training_ends=training_ends,
        )
        self.action_low, self.action_high = self.envs.action_low, self.envs.action_high
        self.state_size = self.task.state_size
        self.dynamics = dynamics
        self.action_repeat = self.envs.action_repeat
        self.reward_range = self.task.reward_range(self.action_repeat)
        self.terminated = self.truncated = self.success = False
        self._ended = True

    def reset(self, start: ArrayLike | None = None, goal: ArrayLike | None = None) -> np.ndarray:
        """Start a new episode from a new random start, or from ``start`` (12,: pose, velocity, angular_v)
        towards ``goal`` (3,; default the task's target); returns its first state (state_size,)."""
        self.terminated = self.truncated = self.success = False
        self._ended = False
        if start is None:
            return self.envs.reset()[0]
        goal = self.task.target if goal is None else goal
        start, goal = np.asarray(start, dtype=float)[None, :], np.asarray(goal, dtype=float)[None, :]
        return self.envs.restart_from(start, goal)[0]

    def step(self, rotor_speeds: ArrayLike) -> tuple[np.ndarray, float, bool]:
        """Apply 4 rotor speeds (rev/s; finite ones clipped to [0, action_high]) for ``action_repeat`` simulator steps.
        Returns ``(next_state, reward, done)``; ``RuntimeError`` once the episode has ended (call reset)."""
        if self._ended:
            raise RuntimeError("the episode has ended (or none has started): call reset() before stepping")
        action = check_action(rotor_speeds, (self.action_size,), self.action_high, self.action_low)
        result = self.envs.step(action[None, :])
        finished = self.envs.pop_finished()
        self.terminated, self.truncated = bool(result.terminated[0]), bool(result.truncated[0])
        self._ended = bool(finished)
        self.success = bool(finished and finished[0]["success"])
        return result.next_states[0], float(result.rewards[0]), self._ended
