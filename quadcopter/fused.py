"""The fused training path: a whole training round of a task (the takeoff by default) in one compiled call.

One call of :meth:`FusedTakeoff.round` does, inside ``tf.function(jit_compile=True)``:

1. ``steps`` times, for all N episodes at once: the actor's action plus exploration noise, the
   simulator with action repeat and the task's functions (:func:`~quadcopter.tensor_task.task_step`), the rewards and
   episode ends, a restart of the rows that ended (from random starts), and the N transitions
   written into the agent's tensor replay buffer;
2. then ``updates`` DDPG updates on batches drawn from that buffer (:meth:`agents.agent.DDPG.update_many`).

Python sees only the summaries of the episodes that ended (for the progress bar and
``episodes.csv``) and the last losses. :meth:`FusedTakeoff.fly` flies noise-free episodes
(test flights, the evaluation) in one call too.

All randomness (starts, noise, batches) comes from one ``tf.random.Generator`` seeded with the
agent's seed, and every piece of state (the episodes in flight, the buffer, the generator) is a
``tf.Variable`` listed by :meth:`FusedTakeoff.checkpointables`: a run checkpointed between two
rounds and resumed continues exactly as if it had not stopped. Nothing assumes a CPU: on a GPU the
same call runs there (docs/fused-training.md, "On a GPU").
"""

from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from agents.agent import TANH_EDGE

from . import dynamics as physics
from . import randomise
from .task_specs import FlightTask
from .tasks import DEFAULT_TARGET, TAKEOFF_RUNTIME, to_rotor_speeds
from .tensor_task import TENSOR_MATH, TakeoffState, TensorDraw, initial_state, steps_per_episode, task_step


class RandomisedRows:
    """The domain randomisation of N episodes on the fused path (:mod:`quadcopter.randomise`): each row's body
    factors, action delay and pending actions as ``tf.Variable`` s (in :attr:`variables`, for the checkpoint),
    drawn anew for the rows whose episode ends. With nothing to randomise it draws nothing, so that a run
    without randomisation keeps its random numbers."""

    def __init__(
        self, randomisation: randomise.Randomisation, body: physics.Airframe, generator: tf.random.Generator, n: int
    ) -> None:
        self.randomisation, self.body, self.n = randomisation, body, n
        self.draw = TensorDraw(generator)
        self.variables: dict[str, tf.Variable] = {}
        if randomisation.changes_body:
            self.factors = self._variable(
                "body_factors", randomise.draw_factors(randomisation, self.draw, n, TENSOR_MATH)
            )
        if randomisation.delays:
            self.delays = self._variable("delays", randomise.draw_delays(randomisation, self.draw, n, TENSOR_MATH))
            self.pending = self._variable("pending_actions", tf.zeros((n, randomise.MAX_DELAY_STEPS, 4), tf.float64))
            self.fresh = self._variable("fresh", tf.ones((n,), tf.bool))
        if randomisation.history:
            self.history = self._variable("history", tf.zeros((n, randomisation.history, 4), tf.float32))

    def _variable(self, name: str, value: Any) -> tf.Variable:
        self.variables[name] = tf.Variable(value, trainable=False)
        return self.variables[name]

    def body_now(self) -> physics.Airframe:
        """The airframe with each row's own mass, inertia and thrust coefficient (or the nominal one)."""
        if not self.randomisation.changes_body:
            return self.body
        return randomise.bodies(self.body, self.factors.read_value())

    def applied(self, speeds: tf.Tensor) -> tf.Tensor:
        """The rotor speeds (N, 4) the rotors get this step: each row's action of ``delay`` steps before."""
        if not self.randomisation.delays:
            return speeds
        applied, pending = randomise.delay_actions(speeds, self.pending, self.fresh, self.delays, TENSOR_MATH)
        self.pending.assign(pending)
        return applied

    def observation_noise(self) -> tf.Tensor | None:
        if not self.randomisation.noise:
            return None
        return randomise.observation_noise(self.randomisation, self.draw, self.n)

    def observed(self, states: tf.Tensor) -> tf.Tensor:
        """The agent's states (N, S) float32, with its last actions appended if it sees them (N, S + 4 K)."""
        if not self.randomisation.history:
            return states
        return randomise.with_history(states, self.history, TENSOR_MATH)

    def next_observed(self, next_states: tf.Tensor, actions: tf.Tensor, ended: tf.Tensor) -> tf.Tensor:
        """The transitions' next states (N, S) float32 after the normalised ``actions`` (N, 4), with the history
        that includes them; the history then starts empty for the rows whose episode ``ended`` (N,)."""
        if not self.randomisation.history:
            return next_states
        history = randomise.pushed(self.history, actions, TENSOR_MATH)
        self.history.assign(tf.where(ended[:, None, None], tf.zeros_like(history), history))
        return randomise.with_history(next_states, history, TENSOR_MATH)

    def restart(self, ended: tf.Tensor) -> None:
        """New draws for the rows whose episode ended (``ended`` (N,) bool)."""
        if self.randomisation.changes_body:
            new = randomise.draw_factors(self.randomisation, self.draw, self.n, TENSOR_MATH)
            self.factors.assign(tf.where(ended[:, None], new, self.factors))
        if self.randomisation.delays:
            new = randomise.draw_delays(self.randomisation, self.draw, self.n, TENSOR_MATH)
            self.delays.assign(tf.where(ended, new, self.delays))
            self.fresh.assign(ended)


class FusedTakeoff:
    """N episodes of a task, a DDPG agent and its tensor replay buffer, stepped and trained in compiled rounds.

    Args:
        agent: an :class:`agents.agent.DDPG` built for the task (its state size, action 4, [0, 900] rev/s).
        num_envs: N, episodes side by side.
        task: a :class:`~quadcopter.task_specs.FlightTask` (default: the takeoff to ``target`` with a share
            ``air_starts`` of its training starts around the target; the test flights start where the
            task's ``test_starts`` put them).
        runtime, dynamics, action_repeat: the simulation's settings (as ``TakeoffTask``).
        warmup: transitions stored before updates start (a round with fewer makes none).
        seed: seeds the generator of starts, noise and batches.
        airframe: the body flown (:func:`quadcopter.dynamics.check_airframe`).
        randomisation: a :class:`quadcopter.randomise.Randomisation` the training episodes draw their bodies,
            delays and observation noise from (default: none); the test flights fly the nominal body.
    """

    def __init__(
        self,
        agent: Any,
        num_envs: int,
        *,
        task: Any = None,
        runtime: float = TAKEOFF_RUNTIME,
        target: Any = DEFAULT_TARGET,
        dynamics: str = "udacity",
        action_repeat: int = 3,
        air_starts: float = 0.5,
        warmup: int = 1_000,
        seed: int = 0,
        airframe: Any = None,
        randomisation: randomise.Randomisation | None = None,
    ) -> None:
        self.agent, self.num_envs, self.warmup = agent, int(num_envs), int(warmup)
        self.task = task or FlightTask(target=tuple(float(t) for t in target), air_starts=float(air_starts))
        self.body = physics.check_airframe(dynamics, airframe)
        self.task_settings: dict[str, Any] = dict(
            runtime=float(runtime), dynamics=dynamics, action_repeat=int(action_repeat), body=self.body
        )
        self.memory = agent.use_tensor_memory()
        self.generator = tf.random.Generator.from_seed(seed)
        starts, goals, in_air = self._sample_starts()
        first = initial_state(starts, in_air, goals)
        self.flying = TakeoffState(*(tf.Variable(x, trainable=False) for x in first))
        self.noise_state = tf.Variable(tf.zeros((self.num_envs, agent.action_size)), trainable=False)
        randomisation = randomise.check_dynamics(randomisation or randomise.PRESETS["off"], dynamics)
        self.randomised = RandomisedRows(randomisation, self.body, self.generator, self.num_envs)
        self._round = tf.function(self._round_graph, jit_compile=True)
        self._fly = tf.function(self._fly_graph, jit_compile=True)

    def checkpointables(self) -> dict[str, Any]:
        """Every variable of the fused path's own state, by name, for ``tf.train.Checkpoint``. The takeoff's
        goals never change, so its checkpoints leave them out: a takeoff run checkpointed before goals
        existed resumes as it did."""
        flying = dict(zip(TakeoffState._fields, self.flying))
        if type(self.task) is FlightTask:
            flying.pop("goal")
        return dict(
            generator=self.generator,
            noise_state=self.noise_state,
            memory=self.memory.checkpoint(),
            **{f"flying_{name}": variable for name, variable in flying.items()},
            **{f"randomised_{name}": variable for name, variable in self.randomised.variables.items()},
        )

    def _sample_starts(self):
        """(starts (N, 12), goals (N, 3), in_air (N,)): the task's training starts, drawn in the graph."""
        starts, goals, in_air = self.task.train_starts(TensorDraw(self.generator), self.num_envs, TENSOR_MATH)
        return starts, goals, in_air

    # --- Acting ---

    def _rotor_speeds(self, normalised):
        """Normalised actions in [-1, 1] (float32) -> rotor speeds in the airframe's action range, rev/s (float64)."""
        body = self.body
        normalised = tf.cast(tf.clip_by_value(normalised, -1.0, 1.0), tf.float64)
        return to_rotor_speeds(normalised, body.max_rotor_speed, body.min_rotor_speed)

    def _noise(self):
        """Exploration noise (N, A) in normalised units, as the agent's numpy noise: Gaussian, or OU
        with a per-row state (:meth:`_restart_noise` restarts the rows whose episode ended)."""
        config = self.agent.config
        draw = self.generator.normal(self.noise_state.shape, dtype=tf.float32) * config.noise_sigma
        if config.noise != "ou":
            return draw
        self.noise_state.assign(self.noise_state - config.noise_theta * self.noise_state + draw)
        return self.noise_state.read_value()

    def _add_noise(self, normalised):
        """The actor's actions with exploration noise, as ``DDPG.add_noise`` adds it: before the tanh if
        ``config.noise_before_tanh``, else after it and clipped to [-1, 1]."""
        if self.agent.config.noise_before_tanh:
            edge = tf.constant(TANH_EDGE, normalised.dtype)
            return tf.tanh(tf.atanh(tf.clip_by_value(normalised, -edge, edge)) + self._noise())
        return tf.clip_by_value(normalised + self._noise(), -1.0, 1.0)

    def _restart_noise(self, ended) -> None:
        if self.agent.config.noise == "ou":
            self.noise_state.assign(tf.where(ended[:, None], tf.zeros_like(self.noise_state), self.noise_state))

    # --- One training round ---

    def round(self, steps: int, updates: int) -> tuple[list[dict], tuple[float, float], int]:
        """``steps`` agent steps of all N episodes, then ``updates`` DDPG updates (none while the buffer
        holds fewer than ``warmup`` transitions), in one compiled call.

        Returns ``(episodes, losses, updates_made)``: the episodes that ended, in order, as a list of
        dicts (keys step (0 to steps - 1), env, episode_return, length, final_z, success, air_start;
        Python numbers), (critic loss, actor loss) of the last update (nan if none), and how many
        updates were made (``updates`` or 0).
        """
        ended, returns, lengths, final_z, success, air_start, losses, learned = self._round(int(steps), int(updates))
        updates_made = int(updates) if bool(learned) else 0
        if updates_made:
            self.agent.policy.mark_stale()  # the actor changed inside the graph
        losses = tuple(float(x) for x in losses)
        ended = ended.numpy()
        if not ended.any():  # most rounds: no episode ended
            return [], losses, updates_made
        step_index, env = np.nonzero(ended)
        columns = dict(
            step=step_index,
            env=env,
            episode_return=returns.numpy()[ended],
            length=lengths.numpy()[ended],
            final_z=final_z.numpy()[ended],
            success=success.numpy()[ended],
            air_start=air_start.numpy()[ended],
        )
        rows = zip(*(values.tolist() for values in columns.values()))
        return [dict(zip(columns, row)) for row in rows], losses, updates_made

    def _training_step(self, state: TakeoffState, observations: tf.Tensor) -> tuple[TakeoffState, Any]:
        """One agent step of the N training episodes in the graph: act with exploration noise on the (randomised)
        bodies, store the N transitions, restart what ended; returns ``task_step``'s (state, result)."""
        randomised = self.randomised
        states = randomised.observed(tf.cast(observations, tf.float32))
        actions = self._add_noise(self.agent.actor_local.network(states, training=False))
        restarts = self._sample_starts()
        settings = dict(self.task_settings, body=randomised.body_now())
        speeds = randomised.applied(self._rotor_speeds(actions))
        noise = randomised.observation_noise()
        state, result = task_step(
            self.task, state, speeds, restarts, observation_noise=noise, training_ends=True, **settings
        )
        randomised.restart(result.ended)
        self.memory.write(
            states,
            actions,
            tf.cast(result.rewards, tf.float32)[:, None],
            randomised.next_observed(tf.cast(result.next_states, tf.float32), actions, result.ended),
            tf.cast(result.terminated, tf.float32)[:, None],
        )
        self._restart_noise(result.ended)
        return state, result

    def _round_graph(self, steps: int, updates: int):
        """The round's graph; ``steps`` and ``updates`` are Python ints (one trace for each pair)."""
        # One row per step of: ended, episode return, length, final z, success (AutoGraph carries
        # TensorArrays through the loop only as plain local names).
        ended = tf.TensorArray(tf.bool, size=steps)
        returns = tf.TensorArray(tf.float64, size=steps)
        lengths = tf.TensorArray(tf.int32, size=steps)
        final_z = tf.TensorArray(tf.float64, size=steps)
        success = tf.TensorArray(tf.bool, size=steps)
        air_start = tf.TensorArray(tf.bool, size=steps)
        state = TakeoffState(*(v.read_value() for v in self.flying))
        noise = self.randomised.observation_noise()
        observations = self.task.observe(
            state.physics if noise is None else state.physics + noise, state.goal, TENSOR_MATH
        )
        for k in tf.range(steps):
            state, result = self._training_step(state, observations)
            observations = result.states
            ended = ended.write(k, result.ended)
            returns = returns.write(k, result.episode_returns)
            lengths = lengths.write(k, result.episode_lengths)
            final_z = final_z.write(k, result.final_z)
            success = success.write(k, result.success)
            air_start = air_start.write(k, result.air_start)
        for variable, value in zip(self.flying, state):
            variable.assign(value)
        losses = (tf.constant(np.nan, tf.float32),) * 2
        # ``updates`` is a Python int (one trace per (steps, updates)); the warmup is checked in the
        # graph, so that the rounds before and after it share one compiled call.
        learned = tf.constant(False)
        if updates:
            learned = self.memory.size() >= self.warmup
            if learned:
                indices = self.generator.uniform(
                    (updates, self.agent.config.batch_size), 0, self.memory.size(), dtype=tf.int32
                )
                losses = self.agent.update_many(self.memory.columns, indices)
        return (
            ended.stack(),
            returns.stack(),
            lengths.stack(),
            final_z.stack(),
            success.stack(),
            air_start.stack(),
            losses,
            learned,
        )

    # --- Noise-free flights ---

    def fly(self, starts: np.ndarray, goals: np.ndarray, runtime: float | None = None) -> pd.DataFrame:
        """Fly the actor without noise from M starts (M, 12) (pose, velocity, angular_v) towards goals
        (M, 3), until every row's first episode has ended, in one compiled call. ``runtime`` (s) replaces
        the task's time limit (the evaluation's long hold).

        Returns a DataFrame with one row per start: episode_return, length, final_z, success.
        """
        runtime = float(runtime or self.task_settings["runtime"])
        steps = steps_per_episode(runtime, self.task_settings["action_repeat"])
        starts, goals = tf.constant(starts, tf.float64), tf.constant(goals, tf.float64)
        returns, lengths, final_z, success = (x.numpy() for x in self._fly(starts, goals, steps, runtime))
        return pd.DataFrame(dict(episode_return=returns, length=lengths, final_z=final_z, success=success))

    def _fly_graph(self, starts, goals, steps: int, runtime: float):
        settings = dict(self.task_settings, runtime=runtime)
        state = initial_state(starts, goals=goals)
        n = tf.shape(starts)[0]
        seen = tf.zeros((n,), tf.bool)
        first = (
            tf.zeros((n,), tf.float64),
            tf.zeros((n,), tf.int32),
            tf.zeros((n,), tf.float64),
            tf.zeros((n,), tf.bool),
        )
        observations = self.task.observe(starts, goals, TENSOR_MATH)
        # The actions the actor sees (none unless it trained seeing them), as in training: (M, K, 4).
        history = tf.zeros((n, self.randomised.randomisation.history, 4), tf.float32)
        for _ in tf.range(steps):
            states = randomise.with_history(tf.cast(observations, tf.float32), history, TENSOR_MATH)
            actions = self.agent.actor_local.network(states, training=False)
            history = randomise.pushed(history, actions, TENSOR_MATH)
            restarts = (starts, goals, state.air_start)
            state, result = task_step(self.task, state, self._rotor_speeds(actions), restarts, **settings)
            observations = result.states
            new = result.ended & ~seen
            first = tuple(
                tf.where(new, value, kept)
                for value, kept in zip(
                    (result.episode_returns, result.episode_lengths, result.final_z, result.success), first
                )
            )
            seen = seen | result.ended
        return first
