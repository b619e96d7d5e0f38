"""DDPG (Lillicrap et al., 2016) with the Udacity template's interface, in TensorFlow 2 / Keras 3.

The actor learns from the critic's action gradients: see :meth:`agents.actor.Actor.train_step`.
"""

import dataclasses
import json
import math
import os
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .actor import Actor, NumpyPolicy, normalise_from_range, scale_to_range
from .checks import check_fields, check_memory, finite_array, integer_in, shown
from .critic import Critic
from .ounoise import NOISES
from .replay_buffer import ReplayBuffer, TensorReplayBuffer
from .tensor_learner import TensorLearner

TANH_EDGE = 1.0 - 1e-6
"""Actions are clipped to +-this before atanh, which is infinite at +-1."""


def add_noise_before_tanh(normalised: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """tanh(atanh(a) + draw) for the actor's tanh outputs ``a`` in [-1, 1] (any shape; ``draw``
    broadcasts): the noise added to the actor's pre-activation. The fused path does the same in TensorFlow."""
    return np.tanh(np.arctanh(np.clip(normalised, -TANH_EDGE, TANH_EDGE)) + draw)


MAX_UNITS = 4_096
"""The widest hidden layer a network may have (a 4,096 x 4,096 layer and its Adam moments are 200 MB)."""
MAX_LAYERS = 8
"""The most hidden layers a network may have."""
MAX_BUFFER_SIZE = 10_000_000
"""The largest replay buffer (the quadcopter's: 1.4 GB as tensors); the machine's memory may allow less
(:meth:`DDPG.memory_needed`)."""
MAX_BATCH_SIZE = 65_536
"""The largest batch of one update."""


@dataclasses.dataclass
class DDPGConfig:
    """Every hyperparameter of :class:`DDPG`, with defaults that work across tasks.

    The defaults follow the DDPG paper except where a change measured better on Gymnasium's
    ``Pendulum-v1`` (``benchmarks/bench_pendulum.py``; the paper's values in brackets): a 256-256
    actor and a 256-256-256 critic [400-300 each], the actions joining the critic at its input [after
    its first hidden layer], actor learning rate 1e-3 [1e-4], gamma 0.995 [0.99], tau 0.005 [0.001],
    Gaussian noise of 0.05 [OU, sigma 0.2], added before the actor's tanh [after it], a proximal pull
    of the actor towards the target actor, ``proximal_weight`` 3 [none], and ``update_every`` 8 [1].
    Two more differ: the buffer holds 100,000 experiences [1,000,000], and the critic has no L2 weight
    decay [1e-2], which was not better on Pendulum (docs/learning.md). Tasks tuned further keep their
    settings with their code: the takeoff's are ``quadcopter.presets.TAKEOFF_CONFIG``.
    """

    actor_units: tuple = (256, 256)
    """Hidden layer widths of the actor."""
    critic_units: tuple = (256, 256, 256)
    """Hidden layer widths of the critic (three layers: with the proximal term, Pendulum's swing-ups were
    flown better than with two; docs/learning.md)."""
    critic_action_layer: int = 0
    """How many of the critic's hidden layers the states pass before the actions join them: 0, at the
    input, as in TD3, SB3 and CleanRL; 1, after the first hidden layer, as in the DDPG paper (0 to
    ``len(critic_units)``)."""
    actor_lr: float = 1e-3
    """Adam learning rate of the actor."""
    critic_lr: float = 1e-3
    """Adam learning rate of the critic."""
    final_init: float = 3e-3
    """Output layers start with weights in U(-final_init, final_init)."""
    gamma: float = 0.995
    """Discount factor per agent step (an effective horizon of about 1 / (1 - gamma) = 200 steps)."""
    tau: float = 5e-3
    """Soft target update: target <- tau * local + (1 - tau) * target, after each update."""
    batch_size: int = 64
    """Experiences per gradient step."""
    buffer_size: int = 100_000
    """Replay buffer capacity (experiences)."""
    warmup: int = 1_000
    """Experiences stored before learning starts."""
    noise: str = "gaussian"
    """Exploration noise: "ou" (Ornstein-Uhlenbeck) or "gaussian"."""
    noise_theta: float = 0.15
    """OU pull towards zero per step."""
    noise_sigma: float = 0.05
    """Noise scale, in normalised action units (the action range is [-1, 1]); with ``noise_before_tanh``,
    in units of the tanh's input, which are the same near a = 0."""
    noise_before_tanh: bool = True
    """Add the exploration noise to the actor's output before its tanh, a = tanh(atanh(mu) + noise) (a
    squashed Gaussian, as in SAC), instead of after it, a = clip(mu + noise, -1, 1). Near a = 0 the two
    are the same; at a bound the noise added after it and clipped can only pull the action away from
    the bound, so a task whose best actions push at full force (a Pendulum swing-up) loses force to the
    noise, while before the tanh the noise fades as mu nears the bound. On Pendulum this scored better
    on every held-out set of seeds tried (docs/learning.md). Off in the takeoff preset, which was tuned
    without it."""
    invert_gradients: bool = False
    """Scale each action gradient by the room left towards the bound it pushes to (Hausknecht and
    Stone, 2016), so a tanh output never saturates: see :meth:`DDPG.bounded_action_gradients`. Off,
    as in the paper: on 25 Pendulum seeds DDPG did slightly better without (docs/learning.md). The
    takeoff preset has it on."""
    proximal_weight: float = 3.0
    """Weight w of a proximal term in the actor's step: the action gradients handed to the actor are
    dQ/da + w (mu'(s) - mu(s)), mu' the target actor, which is the gradient of Q(s, mu(s)) - w/2
    |mu(s) - mu'(s)|^2. Each step then also pulls the actor towards the slowly moving target actor
    (a trust region in action space, as in proximal policy methods), so one batch's critic cannot drag
    it far. 0 turns it off, as in the paper. On Pendulum, 3 with a three-layer critic came closer to the
    near-optimal controller on every held-out set of seeds tried (docs/learning.md); off in the
    takeoff preset."""
    target_noise: float = 0.0
    """TD3's target-policy smoothing (Fujimoto et al., 2018): Gaussian noise of this scale, in normalised
    action units and clipped to +-``target_noise_clip``, added to the target actor's actions in the
    critic's TD target, so that the critic cannot exploit a narrow peak of its own (0: off, as in DDPG)."""
    target_noise_clip: float = 0.5
    """The clip of ``target_noise``'s draws."""
    policy_delay: int = 1
    """TD3's delayed policy updates: the actor and both target networks move on every
    ``policy_delay``-th update only, the critic on every one (1: every update, as in DDPG)."""
    critic_layer_norm: bool = False
    """Layer normalisation after each of the critic's hidden layers (before the ReLU)."""
    update_every: int = 8
    """In the Udacity loop, ``step`` makes its updates every ``update_every`` steps, in one compiled call:
    ``update_every`` x ``updates_per_step`` of them, so ``updates_per_step`` per step on average, without
    paying a compiled call's overhead on every step (Spinning Up's DDPG does the same with 50)."""
    updates_per_step: int = 1
    """Updates per environment step, on average, in the Udacity loop (1, as in the DDPG paper; REDQ and
    DroQ make 20), each on its own sampled batch. On Pendulum, 4 with a 512-512 critic flew the
    swing-ups closer to the optimum but took about seven times as long and did not reach the benchmark's
    target (docs/learning.md). The fast path (``learn_many``, ``train``) sets its own counts."""
    clip_q_targets: bool = False
    """Clip the critic's TD targets to the discounted returns that the task's ``reward_range`` allows
    (:meth:`DDPG.return_bounds`), so its over-estimates are not fed back into its own targets. No
    effect for a task without ``reward_range``. Off as in the paper: on the takeoff it was not
    better (docs/learning.md)."""
    seed: int = 0
    """Seeds Python, numpy and TensorFlow (keras.utils.set_random_seed) and the agent's Generator."""

    def validate(self) -> "DDPGConfig":
        """Raise ``ValueError`` naming the first setting out of its range."""

        def units(v):
            return 0 < len(v) <= MAX_LAYERS and all(isinstance(u, int) and 0 < u <= MAX_UNITS for u in v)

        def boolean(v):
            return isinstance(v, bool)

        critic_layers = len(self.critic_units) if isinstance(self.critic_units, (list, tuple)) else 0
        largest_batch = min(self.buffer_size, MAX_BATCH_SIZE) if isinstance(self.buffer_size, int) else MAX_BATCH_SIZE

        check_fields(
            self,
            [
                ("actor_units", units, f"1 to {MAX_LAYERS} layer widths, each an integer in [1, {MAX_UNITS}]"),
                ("critic_units", units, f"1 to {MAX_LAYERS} layer widths, each an integer in [1, {MAX_UNITS}]"),
                ("actor_lr", lambda v: 0 < v < 1, "in (0, 1)"),
                ("critic_lr", lambda v: 0 < v < 1, "in (0, 1)"),
                ("final_init", lambda v: 0 < v <= 1, "in (0, 1]"),
                ("gamma", lambda v: 0 <= v < 1, "in [0, 1)"),
                ("tau", lambda v: 0 < v <= 1, "in (0, 1]"),
                ("buffer_size", integer_in(1, MAX_BUFFER_SIZE), f"an integer in [1, {MAX_BUFFER_SIZE:,}]"),
                (
                    "batch_size",
                    integer_in(1, largest_batch),
                    f"an integer in [1, min(buffer_size={self.buffer_size}, {MAX_BATCH_SIZE:,})]",
                ),
                (
                    "warmup",
                    integer_in(self.batch_size, self.buffer_size),
                    f"an integer in [batch_size={self.batch_size}, buffer_size={self.buffer_size}]",
                ),
                ("noise", lambda v: v in NOISES, f"one of {sorted(NOISES)}"),
                ("noise_theta", lambda v: 0 <= v <= 1, "in [0, 1]"),
                ("noise_sigma", lambda v: 0 <= v <= 2, "in [0, 2]"),
                ("noise_before_tanh", boolean, "True or False"),
                ("invert_gradients", boolean, "True or False"),
                ("proximal_weight", lambda v: 0 <= v <= 100, "in [0, 100]"),
                ("target_noise", lambda v: 0 <= v <= 2, "in [0, 2]"),
                ("target_noise_clip", lambda v: 0 <= v <= 2, "in [0, 2]"),
                ("policy_delay", integer_in(1, 100), "an integer in [1, 100]"),
                (
                    "critic_action_layer",
                    integer_in(0, critic_layers),
                    f"an integer in [0, len(critic_units)={critic_layers}]",
                ),
                ("critic_layer_norm", boolean, "True or False"),
                ("update_every", integer_in(1, 1000), "an integer in [1, 1000]"),
                ("updates_per_step", integer_in(1, 100), "an integer in [1, 100]"),
                ("clip_q_targets", boolean, "True or False"),
                ("seed", integer_in(0), "an integer >= 0"),
            ],
        )
        return self

    def replace(self, **changes: Any) -> "DDPGConfig":
        """A validated copy with some settings changed (unknown names raise ``ValueError``)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(
                f"unknown DDPGConfig settings {sorted(unknown)}; known: {[f.name for f in dataclasses.fields(self)]}"
            )
        return dataclasses.replace(self, **changes).validate()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "DDPGConfig":
        """The config written by :meth:`to_json`; ``ValueError`` if a setting is missing, unknown or bad.

        A config written before ``critic_action_layer`` existed gets 1, the critic it was trained with;
        one written before ``updates_per_step`` existed gets 1, the one update per step it made; one
        written before ``noise_before_tanh`` existed gets False, the noise it explored with; one written
        before ``proximal_weight`` existed gets 0, the actor step it learned with.
        """
        values = json.loads(text)
        if isinstance(values, dict):
            for name, before in (
                ("critic_action_layer", 1),
                ("updates_per_step", 1),
                ("noise_before_tanh", False),
                ("proximal_weight", 0.0),
            ):
                values.setdefault(name, before)
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(values, dict) or set(values) != names:
            given = set(values) if isinstance(values, dict) else set()
            raise ValueError(
                f"a DDPGConfig needs exactly its settings; missing {sorted(names - given)}, "
                f"unknown {sorted(given - names)}"
            )
        for name in ("actor_units", "critic_units"):
            values[name] = tuple(values[name])
        return cls(**values).validate()


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
        self.gamma = tf.constant(cfg.gamma, tf.float32)
        reward_range = getattr(task, "reward_range", None) if cfg.clip_q_targets else None
        # (lowest, highest) TD target, or None for no clipping.
        self.q_bounds = None if reward_range is None else self.return_bounds(reward_range, cfg.gamma)
        self.tau = tf.constant(cfg.tau, tf.float32)
        # The draws of the target-policy smoothing (target_noise), inside the compiled update; seed + 1,
        # so that they are not the draws of a training loop's generator seeded with the seed itself.
        self.update_generator = tf.random.Generator.from_seed(cfg.seed + 1)
        # Updates made so far (for policy_delay); checkpointed with the networks.
        self.updates_made = tf.Variable(0, dtype=tf.int64, trainable=False, name="updates_made")
        self._compile_calls()
        # act() flies this numpy copy of actor_local; every update below marks it stale (or, in
        # step(), hands it the new weights).
        self.policy = NumpyPolicy(self.actor_local.network)
        self.steps = 0  # step() calls, for update_every
        # The fast path's pieces (a tensor buffer and its compiled many-updates call), made on demand.
        self.fast_path = None
        self.last_state = None

    def _make_networks(self, cfg: DDPGConfig) -> tuple[Actor, Actor, Critic, Critic]:
        """(actor_local, actor_target, critic_local, critic_target), made in that order (the seed decides
        their weights), the targets starting as copies of the locals."""

        def make_actor(name):
            units, rate = cfg.actor_units, cfg.actor_lr
            low, high = self.action_low, self.action_high
            return Actor(self.state_size, self.action_size, low, high, units, rate, cfg.final_init, name=name)

        def make_critic(name):
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

    def _compile_calls(self) -> None:
        """The compiled calls: acting, one update, and the Udacity loop's stacked updates."""
        self._act = tf.function(self._normalised_actions)
        # XLA roughly doubles the fused path's speed here; DDPG_JIT=0 turns it off for debugging.
        jit = os.environ.get("DDPG_JIT", "1") == "1"
        self._learn = tf.function(self._update, jit_compile=jit)
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
        self._learn_batches_concrete = None

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
    def action_range(low, high, action_size):
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

    def make_noise(self, size):
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
        """The actor's normalised actions ``normalised`` with the noise ``draw`` added: before the tanh if
        ``config.noise_before_tanh`` (see there), else after it and clipped to [-1, 1]."""
        if self.config.noise_before_tanh:
            return add_noise_before_tanh(normalised, draw)
        return np.clip(normalised + draw, -1.0, 1.0)

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

    def random_state(self) -> dict:
        """The state of the numpy generator ``rng`` (exploration noise, the Udacity buffer's batches,
        the numpy path's starts), as JSON-ready data for a checkpoint."""
        return self.rng.bit_generator.state

    def set_random_state(self, state: dict) -> None:
        """Put back a state from :meth:`random_state`."""
        self.rng.bit_generator.state = state

    # --- The Udacity loop ---

    def reset_episode(self) -> np.ndarray:
        self.noise.reset()
        self.last_state = self.task.reset()
        return self.last_state

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
            batches = (states, actions, rewards[..., None], next_states, dones[..., None])
            if self._learn_batches_concrete is None:
                self._learn_batches_concrete = self._learn_batches.get_concrete_function()
            critic_loss, actor_loss, actor_weights = self._learn_batches_concrete(*(tf.constant(x) for x in batches))
            self.check_losses(critic_loss, actor_loss)
            self.policy.refresh([w.numpy() for w in actor_weights])
        self.last_state = next_state

    def learn(self, experiences: list | tuple) -> tuple[float, float]:
        """One DDPG update from a batch: a list of ``Experience`` (from ``memory.sample()``) or a tuple
        of arrays (states, normalised actions, rewards, next_states, terminated). Returns the losses.
        Raises ``ValueError``, changing no weight, if a value in the batch is not finite.
        """
        critic_loss, actor_loss = self._learn(*self._batch_tensors(experiences))
        self.policy.mark_stale()
        return self.check_losses(critic_loss, actor_loss)

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
    def _batch_tensors(experiences):
        """A batch as five float32 tensors: states, actions, rewards (B, 1), next_states, terminated (B, 1)."""
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
        return tuple(
            tf.convert_to_tensor(x)
            for x in (states, actions, rewards.reshape(-1, 1), next_states, terminated.reshape(-1, 1))
        )

    # --- The update, compiled ---

    def _update(self, states, actions, rewards, next_states, terminated):
        """One DDPG update on a batch of tensors; every step is a separate, named computation."""
        # Critic: regress Q(s, a) on the TD target built from the target networks.
        next_actions = self.actor_target.network(next_states, training=False)
        if self.config.target_noise > 0:
            smoothing = self.update_generator.normal(tf.shape(next_actions)) * self.config.target_noise
            clip = self.config.target_noise_clip
            next_actions = tf.clip_by_value(next_actions + tf.clip_by_value(smoothing, -clip, clip), -1.0, 1.0)
        q_next = self.critic_target.model([next_states, next_actions], training=False)
        q_targets = rewards + self.gamma * q_next * (1.0 - terminated)
        if self.q_bounds is not None:
            # A target beyond any return the rewards allow can only be the critic's over-estimate.
            q_targets = tf.clip_by_value(q_targets, *self.q_bounds)
        critic_loss = self.critic_local.train_step(states, actions, q_targets)

        self.updates_made.assign_add(1)
        if self.config.policy_delay == 1:
            actor_loss = self._update_actor_and_targets(states)
        else:
            # TD3: the actor and the targets follow the critic on every policy_delay-th update only.
            actor_loss = tf.cond(
                self.updates_made % self.config.policy_delay == 0,
                lambda: self._update_actor_and_targets(states),
                lambda: tf.constant(0.0),
            )
        return critic_loss, actor_loss

    def _update_actor_and_targets(self, states):
        """The actor's step and the soft target updates; returns the actor's loss."""
        # Actor: dQ/da at a = mu(s) (the actor's own actions, not the stored ones), handed to the
        # actor as data; its loss is mean(-action_gradients * actions) (see Actor.train_step).
        mu = self.actor_local.network(states, training=False)
        action_gradients = self.critic_local.action_gradients(states, mu)
        if self.config.invert_gradients:
            action_gradients = self.bounded_action_gradients(action_gradients, mu)
        if self.config.proximal_weight > 0:
            # The pull towards the target actor's actions (inside [-1, 1], so never past a bound).
            target_actions = self.actor_target.network(states, training=False)
            action_gradients = action_gradients + self.config.proximal_weight * (target_actions - mu)
        actor_loss = self.actor_local.train_step(states, action_gradients)

        self._soft_update(self.critic_local.model, self.critic_target.model)
        self._soft_update(self.actor_local.network, self.actor_target.network)
        return actor_loss

    @staticmethod
    def return_bounds(reward_range, gamma):
        """(lowest, highest) discounted return sum_t gamma^t r_t of an episode whose rewards lie in
        ``reward_range`` = (low, high). An episode can end at any step, so the bounds always
        include 0: min(0, low) / (1 - gamma) and max(0, high) / (1 - gamma). Without a
        ``reward_range`` (None): (-inf, inf), no bounds."""
        if reward_range is None:
            return -math.inf, math.inf
        low, high = reward_range
        return min(0.0, low) / (1.0 - gamma), max(0.0, high) / (1.0 - gamma)

    @staticmethod
    def bounded_action_gradients(action_gradients, actions):
        """Inverting gradients (Hausknecht and Stone, 2016) for actions in [-1, 1]: a gradient that
        pushes an action up is scaled by (1 - a) / 2, the room left to the upper bound; one that
        pushes it down by (a + 1) / 2. At a bound the push outwards is zero, so the actor's tanh
        output never runs into its flat ends, where no gradient could bring it back."""
        room = tf.where(action_gradients > 0, 1.0 - actions, actions + 1.0) * 0.5
        return action_gradients * room

    def _update_each(self, count, batch):
        """``count`` updates, the k-th on the five tensors ``batch(k)``; graph code. Returns the last
        update's (critic loss, actor loss), zeros if there was none."""
        critic_loss = actor_loss = tf.constant(0.0)
        for k in tf.range(count):
            critic_loss, actor_loss = self._update(*batch(k))
        return critic_loss, actor_loss

    def _update_batches(self, states, actions, rewards, next_states, terminated):
        """One update for each leading index k of the (K, batch, ...) tensors. Returns the last losses and
        the actor's new weights (so that the Udacity loop's numpy policy needs no variable reads)."""
        stacked = (states, actions, rewards, next_states, terminated)
        losses = self._update_each(tf.shape(states)[0], lambda k: [x[k] for x in stacked])
        return (*losses, [tf.identity(w) for w in self.actor_local.network.weights])

    def _soft_update(self, local, target):
        """target <- tau * local + (1 - tau) * target, in place on the variables (no numpy)."""
        for target_weight, local_weight in zip(target.weights, local.weights):
            target_weight.assign(self.tau * local_weight + (1.0 - self.tau) * target_weight)

    # --- The fast path: vectorised environments, a tensor buffer, many updates per call ---

    def update_many(self, columns, indices):
        """``len(indices)`` updates, each on the rows ``indices[k]`` (batch,) of ``columns`` (the five
        tensors of a replay buffer: states, actions, rewards, next_states, terminated). Graph code,
        for inside a compiled call (:meth:`learn_many`, the fused training path). Returns the last
        update's (critic loss, actor loss), zeros if there was none."""
        return self._update_each(tf.shape(indices)[0], lambda k: [tf.gather(column, indices[k]) for column in columns])

    def use_tensor_memory(self) -> TensorReplayBuffer:
        """The fast path's tensor replay buffer, made with its :class:`~agents.tensor_learner.TensorLearner`
        on the first call (``self.fast_path``)."""
        if self.fast_path is None:
            self.fast_path = TensorLearner(self, jit_compile=self._jit)
        return self.fast_path.memory

    @property
    def tensor_memory(self):
        """The fast path's buffer, or None before :meth:`use_tensor_memory`."""
        return None if self.fast_path is None else self.fast_path.memory

    def learn_many(self, num_updates: int) -> tuple[float, float]:
        """``num_updates`` updates on batches drawn from the tensor buffer, in one call (see
        :class:`~agents.tensor_learner.TensorLearner`)."""
        self.use_tensor_memory()
        return self.fast_path.learn_many(num_updates)

    def learn_from_indices(self, indices: np.ndarray) -> tuple[float, float]:
        """One update per row of ``indices`` (num_updates, batch) of the tensor buffer, in one call."""
        self.use_tensor_memory()
        return self.fast_path.learn_from_indices(indices)
