"""The DDPG update, in one place: the critic's regression on its TD targets, then the actor's step on
``-action_gradients * actions`` and the soft target updates.

:class:`DDPGUpdate` holds what the update needs (the four networks, gamma and tau, the update count and
the random generator of the target smoothing) and makes updates in graph code. Its one entry point is
:meth:`DDPGUpdate.many`: ``count`` updates, the k-th on the batch ``batch(k)``. The Udacity loop (stacked
batches, :meth:`~agents.agent.DDPG.step` and :meth:`~agents.agent.DDPG.learn`) and the fast path
(batches gathered from a tensor replay buffer, ``learn_many`` and the fused training round) both call it.
"""

import math
from collections.abc import Callable, Sequence

import tensorflow as tf

from .actor import Actor
from .config import DDPGConfig
from .critic import Critic

Batch = Sequence[tf.Tensor]
"""Five float32 tensors: states (B, S), normalised actions (B, A), rewards (B, 1), next states (B, S) and
terminated (B, 1: 1.0 for a real end, 0.0 otherwise)."""


def return_bounds(reward_range: tuple[float, float] | None, gamma: float) -> tuple[float, float]:
    """(lowest, highest) discounted return sum_t gamma^t r_t of an episode whose rewards lie in
    ``reward_range`` = (low, high). An episode can end at any step, so the bounds always include 0:
    min(0, low) / (1 - gamma) and max(0, high) / (1 - gamma). Without a ``reward_range`` (None):
    (-inf, inf), no bounds."""
    if reward_range is None:
        return -math.inf, math.inf
    low, high = reward_range
    return min(0.0, low) / (1.0 - gamma), max(0.0, high) / (1.0 - gamma)


def bounded_action_gradients(action_gradients: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    """Inverting gradients (Hausknecht and Stone, 2016) for actions in [-1, 1]: a gradient that pushes an
    action up is scaled by (1 - a) / 2, the room left to the upper bound; one that pushes it down by
    (a + 1) / 2. At a bound the push outwards is zero, so the actor's tanh output never runs into its flat
    ends, where no gradient could bring it back."""
    room = tf.where(action_gradients > 0, 1.0 - actions, actions + 1.0) * 0.5
    return action_gradients * room


def soft_update(local: tf.keras.Model, target: tf.keras.Model, tau: tf.Tensor) -> None:
    """target <- tau * local + (1 - tau) * target, in place on the variables."""
    for target_weight, local_weight in zip(target.weights, local.weights):
        target_weight.assign(tau * local_weight + (1.0 - tau) * target_weight)


class DDPGUpdate:
    """DDPG's update of ``actor``, ``critic`` and their targets (graph code, called inside compiled calls).

    Args:
        actor, actor_target, critic, critic_target: the networks (:class:`~agents.actor.Actor`,
            :class:`~agents.critic.Critic`), the targets starting as copies of the locals.
        config: gamma, tau, the target smoothing, policy_delay, invert_gradients and proximal_weight.
        q_bounds: (lowest, highest) TD target (:func:`return_bounds`), or None for no clipping.
    """

    def __init__(
        self,
        actor: Actor,
        actor_target: Actor,
        critic: Critic,
        critic_target: Critic,
        config: DDPGConfig,
        q_bounds: tuple[float, float] | None = None,
    ) -> None:
        self.actor, self.actor_target, self.critic, self.critic_target = actor, actor_target, critic, critic_target
        self.config = config
        self.q_bounds = q_bounds
        self.gamma = tf.constant(config.gamma, tf.float32)
        self.tau = tf.constant(config.tau, tf.float32)
        # The draws of the target-policy smoothing (target_noise); seed + 1, so that they are not the
        # draws of a training loop's generator seeded with the seed itself.
        self.generator = tf.random.Generator.from_seed(config.seed + 1)
        # Updates made so far (for policy_delay); checkpointed with the networks.
        self.updates_made = tf.Variable(0, dtype=tf.int64, trainable=False, name="updates_made")

    def many(self, count: tf.Tensor, batch: Callable[[tf.Tensor], Batch]) -> tuple[tf.Tensor, tf.Tensor]:
        """``count`` updates, the k-th on the five tensors ``batch(k)``: the one entry point. Returns the last
        update's (critic loss, actor loss), zeros if there was none."""
        critic_loss = actor_loss = tf.constant(0.0)
        for k in tf.range(count):
            critic_loss, actor_loss = self.one(*batch(k))
        return critic_loss, actor_loss

    def one(
        self, states: tf.Tensor, actions: tf.Tensor, rewards: tf.Tensor, next_states: tf.Tensor, terminated: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """One DDPG update on a batch (:data:`Batch`); every step is a separate, named computation."""
        # Critic: regress Q(s, a) on the TD target built from the target networks.
        next_actions = self.actor_target.network(next_states, training=False)
        if self.config.target_noise > 0:
            smoothing = self.generator.normal(tf.shape(next_actions)) * self.config.target_noise
            clip = self.config.target_noise_clip
            next_actions = tf.clip_by_value(next_actions + tf.clip_by_value(smoothing, -clip, clip), -1.0, 1.0)
        q_next = self.critic_target.model([next_states, next_actions], training=False)
        q_targets = rewards + self.gamma * q_next * (1.0 - terminated)
        if self.q_bounds is not None:
            # A target beyond any return the rewards allow can only be the critic's over-estimate.
            q_targets = tf.clip_by_value(q_targets, *self.q_bounds)
        critic_loss = self.critic.train_step(states, actions, q_targets)

        self.updates_made.assign_add(1)
        if self.config.policy_delay == 1:
            actor_loss = self.actor_and_targets(states)
        else:
            # TD3: the actor and the targets follow the critic on every policy_delay-th update only.
            actor_loss = tf.cond(
                self.updates_made % self.config.policy_delay == 0,
                lambda: self.actor_and_targets(states),
                lambda: tf.constant(0.0),
            )
        return critic_loss, actor_loss

    def actor_and_targets(self, states: tf.Tensor) -> tf.Tensor:
        """The actor's step and the soft target updates; returns the actor's loss."""
        # Actor: dQ/da at a = mu(s) (the actor's own actions, not the stored ones), handed to the
        # actor as data; its loss is mean(-action_gradients * actions) (see Actor.train_step).
        mu = self.actor.network(states, training=False)
        action_gradients = self.critic.action_gradients(states, mu)
        if self.config.invert_gradients:
            action_gradients = bounded_action_gradients(action_gradients, mu)
        if self.config.proximal_weight > 0:
            # The pull towards the target actor's actions (inside [-1, 1], so never past a bound).
            target_actions = self.actor_target.network(states, training=False)
            action_gradients = action_gradients + self.config.proximal_weight * (target_actions - mu)
        actor_loss = self.actor.train_step(states, action_gradients)

        soft_update(self.critic.model, self.critic_target.model, self.tau)
        soft_update(self.actor.network, self.actor_target.network, self.tau)
        return actor_loss

    def from_stacked(
        self, states: tf.Tensor, actions: tf.Tensor, rewards: tf.Tensor, next_states: tf.Tensor, terminated: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """One update for each leading index k of the five (K, batch, ...) tensors (the Udacity loop's)."""
        stacked = (states, actions, rewards, next_states, terminated)
        return self.many(tf.shape(states)[0], lambda k: [x[k] for x in stacked])

    def from_indices(self, columns: Batch, indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """One update for each row of ``indices`` (K, batch): the rows of ``columns`` (a tensor replay
        buffer's five columns) to learn from (the fast path's)."""
        return self.many(tf.shape(indices)[0], lambda k: [tf.gather(column, indices[k]) for column in columns])
