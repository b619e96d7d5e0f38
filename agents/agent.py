"""DDPG (Lillicrap et al., 2016) with the Udacity template's interface, in TensorFlow 2 / Keras 3.

One job per file: the settings (:mod:`agents.config`), the networks (:mod:`agents.actor`, where the actor
learns from the critic's action gradients in :meth:`~agents.actor.Actor.train_step`, and
:mod:`agents.critic`), the replay buffers (:mod:`agents.replay_buffer`), the exploration noise
(:mod:`agents.ounoise`) and the update (:mod:`agents.update`). :class:`DDPG` puts them together, and its
Udacity methods (``act``, ``step``, ``reset_episode``, ``learn``) are a thin layer over them.
"""

import math
import os
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .actor import Actor, NumpyPolicy, normalise_from_range, scale_to_range
from .checks import check_memory, finite_array, shown
from .config import MAX_BATCH_SIZE, MAX_BUFFER_SIZE, MAX_LAYERS, MAX_UNITS, DDPGConfig  # noqa: F401  (re-exported)
from .critic import Critic
from .ounoise import NOISES, TANH_EDGE, add_noise, add_noise_before_tanh  # noqa: F401  (likewise)
from .replay_buffer import ReplayBuffer, TensorReplayBuffer
from .tensor_learner import TensorLearner
from .update import DDPGUpdate, bounded_action_gradients, return_bounds


class DDPG:
    """Deep Deterministic Policy Gradient, with the Udacity template's methods.

    Works with any task that has ``state_size``, ``action_size``, ``action_low``, ``action_high``,
    ``reset() -> state`` and ``step(action) -> (next_state, reward, done)``; if the task has a
    ``terminated`` attribute (True for a real end, False at a time limit), learning bootstraps
    through time limits; if it has ``reward_range`` = (lowest, highest reward of a step), the
    critic's targets stay within the returns such rewards allow.

    Inside, actions are normalised to [-1, 1] (the actor's tanh output, what the critic sees and
    what the noise is added to); :meth:`act` returns them mapped to [action_low, action_high].

    Attributes: ``actor_local``, ``actor_target``, ``critic_local``, ``critic_target``
    (:class:`~agents.actor.Actor` / :class:`~agents.critic.Critic`), ``memory``
    (:class:`~agents.replay_buffer.ReplayBuffer`), ``noise``, ``config``, ``rng``.
    """

    def __init__(self, task: Any, config: DDPGConfig | None = None) -> None:
        self.config = (config or DDPGConfig()).validate()
        cfg = self.config
        self.state_size, self.action_size = int(task.state_size), int(task.action_size)
        check_memory(
            f"a DDPG agent with buffer_size={cfg.buffer_size:,} and batches of "
            f"{cfg.update_every * cfg.updates_per_step} x {cfg.batch_size}",
            self.memory_needed(cfg, self.state_size, self.action_size),
            "give a smaller buffer_size, batch_size, update_every or updates_per_step",
        )
        self.action_low, self.action_high = self.action_range(task.action_low, task.action_high, self.action_size)
        keras.utils.set_random_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.task = task

        self.actor_local, self.actor_target, self.critic_local, self.critic_target = self._make_networks(cfg)
        self.noise = self.make_noise(self.action_size)
        self.memory = ReplayBuffer(cfg.buffer_size, cfg.batch_size, self.rng)
        reward_range = getattr(task, "reward_range", None) if cfg.clip_q_targets else None
        # (lowest, highest) TD target, or None for no clipping.
        self.q_bounds = None if reward_range is None else return_bounds(reward_range, cfg.gamma)
        self.update = DDPGUpdate(
            self.actor_local, self.actor_target, self.critic_local, self.critic_target, cfg, self.q_bounds
        )
        self.update_generator, self.updates_made = self.update.generator, self.update.updates_made
        self._compile_calls()
        # act() flies this numpy copy of actor_local; every update below marks it stale (or, in
        # step(), hands it the new weights).
        self.policy = NumpyPolicy(self.actor_local.network)
        self.steps = 0  # step() calls, for update_every
        # The fast path's pieces (a tensor buffer and its compiled many-updates call), made on demand.
        self.fast_path: TensorLearner | None = None
        self.last_state = None

    def _make_networks(self, cfg: DDPGConfig) -> tuple[Actor, Actor, Critic, Critic]:
        """(actor_local, actor_target, critic_local, critic_target), made in that order (the seed decides
        their weights), the targets starting as copies of the locals."""

        def make_actor(name: str):
            units, rate = cfg.actor_units, cfg.actor_lr
            low, high = self.action_low, self.action_high
            return Actor(self.state_size, self.action_size, low, high, units, rate, cfg.final_init, name=name)

        def make_critic(name: str):
            return Critic(
                self.state_size,
                self.action_size,
                cfg.critic_units,
                cfg.critic_lr,
                cfg.final_init,
                name=name,
                layer_norm=cfg.critic_layer_norm,
                action_layer=cfg.critic_action_layer,
            )

        actor_local, actor_target = make_actor("actor"), make_actor("actor_target")
        critic_local, critic_target = make_critic("critic"), make_critic("critic_target")
        for target, local in ((actor_target.network, actor_local.network), (critic_target.model, critic_local.model)):
            for target_weight, local_weight in zip(target.weights, local.weights):
                target_weight.assign(local_weight)
        return actor_local, actor_target, critic_local, critic_target

    # The update's helpers, where the Udacity template's readers look for them.
    return_bounds = staticmethod(return_bounds)
    bounded_action_gradients = staticmethod(bounded_action_gradients)

    def _compile_calls(self) -> None:
        """The compiled calls: acting, and the Udacity loop's stacked updates (``learn`` and ``step``)."""
        self._act = tf.function(self._normalised_actions)
        # XLA roughly doubles the fused path's speed here; DDPG_JIT=0 turns it off for debugging.
        jit = os.environ.get("DDPG_JIT", "1") == "1"
        self._jit = jit
        # The Udacity loop calls this every update_every steps: a fixed signature spares the per-call
        # matching of its inputs (about a millisecond here).
        batches = [
            tf.TensorSpec([None, None, width], tf.float32)
            for width in (self.state_size, self.action_size, 1, self.state_size, 1)
        ]
        self._learn_batches = tf.function(self._update_batches, jit_compile=jit, input_signature=batches)
        # Its concrete function, made on the first call: calling it directly skips tf.function's
        # dispatch (binding and checking the arguments), about a third of a millisecond a call here.
        self._learn_batches_concrete: Any = None

    @staticmethod
    def memory_needed(config: DDPGConfig, state_size: int, action_size: int) -> int:
        """Bytes the agent may come to hold, as an estimate: its replay buffer (the Udacity loop's or the fast
        path's: float32 columns of ``buffer_size`` rows either way), the stacked batches of one Udacity-loop
        call, and one update's layer activations (forward, backward and Adam's work, about four copies)."""
        row = 4 * (2 * state_size + action_size + 2)  # state, action, reward, next state, terminated
        buffer = config.buffer_size * row
        widest = max(*config.actor_units, *config.critic_units)
        layers = len(config.actor_units) + len(config.critic_units)
        batches = config.update_every * config.updates_per_step * config.batch_size * row
        activations = config.batch_size * 16 * widest * layers
        return buffer + batches + activations

    @staticmethod
    def action_range(low: Any, high: Any, action_size: int) -> tuple[np.ndarray, np.ndarray]:
        """The task's (action_low, action_high) as float32 arrays (action_size,); raises ``ValueError``
        unless both are finite and low < high in every dimension."""
        try:
            low_array = np.broadcast_to(finite_array("action_low", low, largest=None), (action_size,))
            high_array = np.broadcast_to(finite_array("action_high", high, largest=None), (action_size,))
        except ValueError as error:
            raise ValueError(f"the task's action range is not usable: {error}") from None
        if not np.all(low_array < high_array):
            raise ValueError(
                f"the task's action_low must be below action_high in every dimension; "
                f"got action_low={shown(low)}, action_high={shown(high)}"
            )
        return low_array, high_array

    def make_noise(self, size: int | tuple[int, ...]) -> Any:
        cfg = self.config
        return NOISES[cfg.noise](size, theta=cfg.noise_theta, sigma=cfg.noise_sigma, rng=self.rng)

    # --- Acting ---

    def _normalised_actions(self, states):
        return self.actor_local.network(states, training=False)

    def to_task_actions(self, normalised: np.ndarray) -> np.ndarray:
        """Normalised actions in [-1, 1] -> the task's range (clipped)."""
        normalised = np.clip(normalised, -1.0, 1.0)
        return scale_to_range(normalised, self.action_low, self.action_high)

    def to_normalised(self, actions: np.ndarray) -> np.ndarray:
        """The task's actions -> [-1, 1]."""
        return normalise_from_range(np.asarray(actions, np.float32), self.action_low, self.action_high)

    def add_noise(self, normalised: np.ndarray, draw: np.ndarray) -> np.ndarray:
        """The actor's normalised actions ``normalised`` with the noise ``draw`` added
        (:func:`agents.ounoise.add_noise`, before the tanh if ``config.noise_before_tanh``)."""
        return add_noise(normalised, draw, self.config.noise_before_tanh)

    def act_normalised(self, states: np.ndarray, explore: bool = True, noise: Any = None) -> np.ndarray:
        """Normalised actions (batch, action_size) for states (batch, state_size), with noise if ``explore``."""
        actions = self._act(tf.convert_to_tensor(np.asarray(states, np.float32))).numpy()
        if explore:
            actions = self.add_noise(actions, (noise or self.noise).sample())
        return actions

    def act(self, state: np.ndarray, explore: bool = True) -> np.ndarray:
        """The action for one state, in the task's range; with exploration noise unless ``explore=False``.

        Runs :attr:`policy`, the numpy copy of ``actor_local`` (see :class:`~agents.actor.NumpyPolicy`):
        the same actions as the network, to float32 round-off, without a compiled call per step.
        """
        state = finite_array("state", state, (self.state_size,)).reshape(1, self.state_size)
        normalised = self.policy(state)[0]
        if not np.isfinite(normalised).all():
            raise self.non_finite_error(f"the actor's action for a finite state is {normalised.tolist()}")
        if explore:
            normalised = self.add_noise(normalised, self.noise.sample())
        return self.to_task_actions(normalised)

    def act_greedy(self, state: np.ndarray) -> np.ndarray:
        """The deterministic policy mu(s): :meth:`act` without noise."""
        return self.act(state, explore=False)

    def actor_weights(self) -> list[np.ndarray]:
        """The actor's weights (a list of arrays), e.g. to keep the best actor."""
        return [w.numpy() for w in self.actor_local.network.weights]

    def set_actor_weights(self, weights: list) -> None:
        """Set the actor's weights (arrays or tensors, as :meth:`actor_weights` gives them)."""
        for variable, value in zip(self.actor_local.network.weights, weights):
            variable.assign(value)
        self.policy.mark_stale()

    def checkpointables(self) -> dict[str, Any]:
        """What a checkpoint of the agent holds (``tf.train.Checkpoint(**agent.checkpointables())``): the
        four networks, both optimizers, the update's random generator and the update count. The numpy
        generator ``rng`` and the replay buffers are the trainer's to save (they may be large)."""
        return dict(
            actor=self.actor_local.network,
            actor_target=self.actor_target.network,
            critic=self.critic_local.model,
            critic_target=self.critic_target.model,
            actor_optimizer=self.actor_local.optimizer,
            critic_optimizer=self.critic_local.optimizer,
            update_generator=self.update_generator,
            updates_made=self.updates_made,
        )

    def random_state(self) -> dict[str, Any]:
        """The state of the numpy generator ``rng`` (exploration noise, the Udacity buffer's batches,
        the numpy path's starts), as JSON-ready data for a checkpoint."""
        return dict(self.rng.bit_generator.state)

    def set_random_state(self, state: dict) -> None:
        """Put back a state from :meth:`random_state`."""
        self.rng.bit_generator.state = state

    # --- The Udacity loop ---

    def reset_episode(self) -> np.ndarray:
        """Start an episode: reset the noise and the task; returns the first state."""
        self.noise.reset()
        state = self.task.reset()
        self.last_state = state
        return state

    def step(self, action: np.ndarray, reward: float, next_state: np.ndarray, done: bool) -> None:
        """Store the experience; once there are ``warmup`` of them, make ``update_every`` x ``updates_per_step``
        updates every ``update_every`` steps (one compiled call, each update on its own sampled batch); move on.

        Raises ``ValueError``, storing nothing, if the action, reward or next state is not finite, or
        if no episode was started with :meth:`reset_episode`."""
        if self.last_state is None:
            raise ValueError("step() needs the state the action was taken in: call reset_episode() first")
        action = finite_array("action", action, (self.action_size,))
        terminated = getattr(self.task, "terminated", done)  # a time limit is not a real end
        self.memory.add(
            self.last_state,
            # The task clips what is beyond its range, so the action it flew is the clipped one.
            np.clip(self.to_normalised(action), -1.0, 1.0),
            finite_array("reward", reward, ()),
            finite_array("next_state", next_state, (self.state_size,)),
            terminated,
        )
        self.steps += 1
        k = self.config.update_every
        if len(self.memory) >= self.config.warmup and self.steps % k == 0:
            states, actions, rewards, next_states, dones = self.memory.sample_batches(k * self.config.updates_per_step)
            self._learn_stacked((states, actions, rewards[..., None], next_states, dones[..., None]))
        self.last_state = next_state

    def _learn_stacked(self, batches: tuple) -> tuple[float, float]:
        """One update per leading index of the five stacked arrays (K, batch, ...), in one compiled call; the
        numpy policy then flies the new actor. Returns the last losses."""
        if self._learn_batches_concrete is None:
            self._learn_batches_concrete = self._learn_batches.get_concrete_function()
        critic_loss, actor_loss, actor_weights = self._learn_batches_concrete(*(tf.constant(x) for x in batches))
        losses = self.check_losses(critic_loss, actor_loss)
        self.policy.refresh([w.numpy() for w in actor_weights])
        return losses

    def learn(self, experiences: list | tuple) -> tuple[float, float]:
        """One DDPG update from a batch: a list of ``Experience`` (from ``memory.sample()``) or a tuple
        of arrays (states, normalised actions, rewards, next_states, terminated). Returns the losses.
        Raises ``ValueError``, changing no weight, if a value in the batch is not finite.
        """
        return self._learn_stacked(tuple(x[None] for x in self._batch_arrays(experiences)))

    def check_losses(self, critic_loss: Any, actor_loss: Any) -> tuple[float, float]:
        """The losses of the last update as floats; :meth:`non_finite_error` if either is not finite."""
        losses = float(critic_loss), float(actor_loss)
        if not all(math.isfinite(loss) for loss in losses):
            raise self.non_finite_error(f"the update's losses are critic {losses[0]}, actor {losses[1]}")
        return losses

    def non_finite_error(self, symptom: str) -> FloatingPointError:
        """The error for a NaN or inf that appeared inside the networks although every input was finite
        and within :data:`~agents.checks.LARGEST_INPUT`: ``symptom``, and its first source, the first
        non-finite weight in the order the update computes (critic, actor, then their targets)."""
        networks = (
            ("critic", self.critic_local.model),
            ("actor", self.actor_local.network),
            ("critic_target", self.critic_target.model),
            ("actor_target", self.actor_target.network),
        )
        for name, network in networks:
            for weight in network.weights:
                if not np.isfinite(weight.numpy()).all():
                    source = f"the first non-finite weight is {name}'s {weight.path}"
                    break
            else:
                continue
            break
        else:
            source = "every weight is finite, so the non-finite value came from the inputs of this call"
        return FloatingPointError(
            f"{symptom}: {source}. The updates diverged: try smaller learning rates "
            f"(actor_lr={self.config.actor_lr}, critic_lr={self.config.critic_lr}) or smaller rewards"
        )

    @staticmethod
    def _batch_arrays(experiences):
        """A batch as five float32 arrays: states, actions, rewards (B, 1), next_states, terminated (B, 1)."""
        if isinstance(experiences, list) and experiences and hasattr(experiences[0], "state"):
            experiences = (
                np.vstack([e.state for e in experiences]),
                np.vstack([e.action for e in experiences]),
                np.array([e.reward for e in experiences]),
                np.vstack([e.next_state for e in experiences]),
                np.array([e.done for e in experiences]),
            )
        names = ("states", "actions", "rewards", "next_states", "terminated")
        states, actions, rewards, next_states, terminated = (
            finite_array(name, x) for name, x in zip(names, experiences)
        )
        return states, actions, rewards.reshape(-1, 1), next_states, terminated.reshape(-1, 1)

    def _update_batches(self, states, actions, rewards, next_states, terminated):
        """The Udacity loop's compiled call: :meth:`DDPGUpdate.from_stacked`, then the actor's new weights (so
        that its numpy policy needs no variable reads)."""
        losses = self.update.from_stacked(states, actions, rewards, next_states, terminated)
        return (*losses, [tf.identity(w) for w in self.actor_local.network.weights])

    # --- The fast path: vectorised environments, a tensor buffer, many updates per call ---

    def update_many(self, columns: list[tf.Tensor], indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``len(indices)`` updates, each on the rows ``indices[k]`` (batch,) of ``columns`` (the five
        tensors of a replay buffer: states, actions, rewards, next_states, terminated). Graph code,
        for inside a compiled call (:meth:`learn_many`, the fused training path). Returns the last
        update's (critic loss, actor loss), zeros if there was none."""
        return self.update.from_indices(columns, indices)

    def use_tensor_memory(self) -> TensorReplayBuffer:
        """The fast path's tensor replay buffer, made with its :class:`~agents.tensor_learner.TensorLearner`
        on the first call (``self.fast_path``)."""
        if self.fast_path is None:
            self.fast_path = TensorLearner(self, jit_compile=self._jit)
        return self.fast_path.memory

    @property
    def tensor_memory(self) -> TensorReplayBuffer | None:
        """The fast path's buffer, or None before :meth:`use_tensor_memory`."""
        return None if self.fast_path is None else self.fast_path.memory

    def learn_many(self, num_updates: int) -> tuple[float, float]:
        """``num_updates`` updates on batches drawn from the tensor buffer, in one call (see
        :class:`~agents.tensor_learner.TensorLearner`)."""
        self.use_tensor_memory()
        assert self.fast_path is not None  # made by use_tensor_memory
        return self.fast_path.learn_many(num_updates)

    def learn_from_indices(self, indices: np.ndarray) -> tuple[float, float]:
        """One update per row of ``indices`` (num_updates, batch) of the tensor buffer, in one call."""
        self.use_tensor_memory()
        assert self.fast_path is not None  # made by use_tensor_memory
        return self.fast_path.learn_from_indices(indices)
