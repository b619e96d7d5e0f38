"""Proof of the trick: training the actor on -action_gradients * actions is the chain rule, and one
DDPG update (critic, actor, targets; the fused path too) is what the equations say."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from agent_helpers import ACTION_SIZE, STATE_SIZE, flat, random_batch, relative_error, small_agent

from agents.actor import Actor
from agents.agent import DDPG, DDPGConfig
from agents.critic import Critic
from task import Task


@pytest.fixture(scope="module")
def random_pair():
    keras.utils.set_random_seed(0)
    actor = Actor(STATE_SIZE, ACTION_SIZE, 0.0, 900.0, units=(64, 48))
    critic = Critic(STATE_SIZE, ACTION_SIZE, units=(64, 48), final_init=0.3)  # a critic with real slopes
    states = tf.constant(np.random.default_rng(0).normal(size=(32, STATE_SIZE)), tf.float32)
    return actor, critic, states


def test_split_gradient_equals_autograd_through_a_frozen_critic_over_action_size(random_pair):
    actor, critic, states = random_pair
    weights = actor.network.trainable_variables

    # The split computation: the critic hands over dQ/da at a = mu(s) as data ...
    action_gradients = critic.action_gradients(states, actor.network(states))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(-action_gradients * actor.network(states))
    split = flat(tape.gradient(loss, weights))

    # ... and autograd of -mean Q(s, mu(s)) through the critic, differentiating only the actor.
    with tf.GradientTape() as tape:
        autograd_loss = -tf.reduce_mean(critic.model([states, actor.network(states)]))
    autograd = flat(tape.gradient(autograd_loss, weights))

    assert np.linalg.norm(autograd) > 1e-3  # a real gradient, not zeros
    assert relative_error(split, autograd / ACTION_SIZE) <= 1e-5


def test_actor_step_moves_only_the_actor(random_pair):
    actor, critic, states = random_pair
    critic_before = flat(critic.model.weights)
    actor_before = flat(actor.network.weights)
    action_gradients = critic.get_action_gradients(states.numpy(), actor.network(states).numpy())
    assert action_gradients.shape == (32, ACTION_SIZE)
    actor.train_fn(states.numpy(), action_gradients.numpy())
    np.testing.assert_array_equal(flat(critic.model.weights), critic_before)
    assert not np.array_equal(flat(actor.network.weights), actor_before)


def test_the_actor_step_raises_q(random_pair):
    actor, critic, states = random_pair
    q_before = float(tf.reduce_mean(critic.model([states, actor.network(states)])))
    for _ in range(20):
        actor.train_fn(states, critic.get_action_gradients(states, actor.network(states)))
    q_after = float(tf.reduce_mean(critic.model([states, actor.network(states)])))
    assert q_after > q_before


def autograd_actor_step(agent, actor_before, states, extra_loss=lambda actions: 0.0):
    """How far one Adam step (fresh optimizer, the agent's settings) moves the actor's weights
    ``actor_before`` on the autograd gradient of -mean Q(s, mu(s)) / action_size + ``extra_loss(mu(s))``,
    with the agent's critic as it is now (after learn, whose critic step goes first); flat."""
    replica = keras.models.clone_model(agent.actor_local.network)
    for variable, value in zip(replica.trainable_variables, actor_before):
        variable.assign(value)
    with tf.GradientTape() as tape:
        actions = replica(states)
        loss = -tf.reduce_mean(agent.critic_local.model([states, actions])) / ACTION_SIZE + extra_loss(actions)
    gradients = tape.gradient(loss, replica.trainable_variables)
    keras.optimizers.Adam(agent.config.actor_lr).apply_gradients(zip(gradients, replica.trainable_variables))
    return flat(replica.trainable_variables) - flat(actor_before)


def test_one_learn_call_moves_the_actor_as_autograd_through_the_critic_would():
    agent = small_agent(tau=0.1)
    batch = random_batch(np.random.default_rng(1))
    actor_before = [v.numpy() for v in agent.actor_local.network.trainable_variables]
    agent.learn(batch)

    moved = flat(agent.actor_local.network.trainable_variables) - flat(actor_before)
    expected = autograd_actor_step(agent, actor_before, tf.constant(batch[0], tf.float32))
    assert np.linalg.norm(expected) > 0
    assert relative_error(moved, expected) <= 1e-3


def test_targets_are_soft_updated_after_learn():
    agent = small_agent(tau=0.05)
    rng = np.random.default_rng(2)
    agent.learn(random_batch(rng))  # make locals and targets differ
    pairs = [
        (agent.actor_target.network, agent.actor_local.network),
        (agent.critic_target.model, agent.critic_local.model),
    ]
    old_targets = [flat(target.weights) for target, _ in pairs]
    agent.learn(random_batch(rng))
    for (target, local), old in zip(pairs, old_targets):
        expected = 0.05 * flat(local.weights) + 0.95 * old
        np.testing.assert_allclose(flat(target.weights), expected, rtol=1e-5, atol=1e-7)


def test_fused_path_makes_the_same_updates_as_learn_given_the_same_batches():
    udacity, fused = small_agent(seed=4), small_agent(seed=4)
    np.testing.assert_array_equal(flat(udacity.actor_local.network.weights), flat(fused.actor_local.network.weights))
    rng = np.random.default_rng(3)
    data = random_batch(rng, n=200)
    fused.use_tensor_memory().add_batch(*data)
    indices = rng.integers(0, 200, size=(5, 16))
    for rows in indices:
        udacity.learn(tuple(column[rows] for column in data))
    fused.learn_from_indices(indices)
    for a, b in (
        (udacity.actor_local.network, fused.actor_local.network),
        (udacity.critic_local.model, fused.critic_local.model),
        (udacity.actor_target.network, fused.actor_target.network),
        (udacity.critic_target.model, fused.critic_target.model),
    ):
        np.testing.assert_allclose(flat(a.weights), flat(b.weights), rtol=1e-4, atol=1e-6)


def test_inverting_gradients_leave_no_push_beyond_a_bound():
    action_gradients = tf.constant([[2.0, 2.0, -2.0, -2.0, 2.0]])
    actions = tf.constant([[1.0, 0.0, -1.0, 0.0, -1.0]])
    bounded = DDPG.bounded_action_gradients(action_gradients, actions).numpy()
    # At the upper bound no push up, halfway half of it, at the lower bound no push down, and a
    # push back from a bound is kept whole.
    np.testing.assert_allclose(bounded, [[0.0, 1.0, 0.0, -1.0, 2.0]])


@pytest.mark.slow
def test_inverting_gradients_is_an_option_of_learn():
    task = Task()
    config = DDPGConfig(
        actor_units=(16, 16),
        critic_units=(16, 16),
        batch_size=8,
        warmup=8,
        buffer_size=64,
        invert_gradients=True,
        seed=3,
    )
    agent = DDPG(task, config)
    rng = np.random.default_rng(0)
    batch = (
        rng.normal(size=(8, STATE_SIZE)),
        rng.uniform(-1, 1, (8, 4)),
        rng.uniform(0, 3, 8),
        rng.normal(size=(8, STATE_SIZE)),
        np.zeros(8),
    )
    before = flat(agent.actor_local.network.weights)
    agent.learn(batch)
    inverted = flat(agent.actor_local.network.weights)
    assert not np.array_equal(inverted, before)
    plain = DDPG(task, config.replace(invert_gradients=False))
    plain.learn(batch)
    assert not np.allclose(flat(plain.actor_local.network.weights), inverted)  # the option changes the step
    assert DDPGConfig.from_json(config.to_json()).invert_gradients is True


@pytest.mark.parametrize("clip", [True, False])
def test_the_critic_regresses_on_targets_clipped_to_the_task_returns(clip):
    """A target critic that says 1000 where at most 3.75 / (1 - 0.95) = 75 can be earned: with
    clip_q_targets the critic's loss is measured against 75, without it against 1 + 0.95 * 1000."""
    agent = DDPG(
        Task(),
        DDPGConfig(
            actor_units=(16, 16),
            critic_units=(16, 16),
            batch_size=8,
            warmup=8,
            invert_gradients=False,
            clip_q_targets=clip,
            gamma=0.95,
        ),
    )
    assert agent.task.reward_range == (0.0, 3.75)  # 3 sub-steps of at most 1.25
    output = agent.critic_target.model.get_layer("q_value")
    output.kernel.assign(np.zeros(output.kernel.shape, np.float32))
    output.bias.assign(np.full(output.bias.shape, 1000.0, np.float32))
    rng = np.random.default_rng(0)
    batch = (
        rng.normal(size=(8, STATE_SIZE)),
        rng.uniform(-1, 1, (8, 4)),
        np.ones(8),
        rng.normal(size=(8, STATE_SIZE)),
        np.zeros(8),
    )
    q_before = agent.critic_local.model([batch[0].astype(np.float32), batch[1].astype(np.float32)]).numpy()
    critic_loss, _ = agent.learn(batch)
    target = 75.0 if clip else 1.0 + 0.95 * 1000.0
    assert critic_loss == pytest.approx(float(np.mean((q_before - target) ** 2)), rel=1e-5)


@pytest.mark.slow
def test_target_policy_smoothing_changes_only_the_critic_targets():
    """TD3's smoothing is off by default; on, it moves the critic's TD target, reproducibly per seed."""
    rng = np.random.default_rng(0)
    batch = random_batch(rng)

    def critic_after_learn(**changes):
        agent = small_agent(seed=4, **changes)
        agent.learn(batch)
        return flat(agent.critic_local.model.weights)

    plain = critic_after_learn()
    assert np.array_equal(plain, critic_after_learn(target_noise=0.0))
    smoothed = critic_after_learn(target_noise=0.5)
    assert not np.array_equal(plain, smoothed)
    np.testing.assert_array_equal(smoothed, critic_after_learn(target_noise=0.5))
    with pytest.raises(ValueError, match=r"DDPGConfig.target_noise must be a number in \[0, 2\]; got -0.1"):
        small_agent(target_noise=-0.1)


@pytest.mark.slow
def test_the_proximal_term_pulls_the_actor_towards_the_target_actor():
    """With proximal_weight w the actor is handed dQ/da + w (mu'(s) - mu(s)): one learn call moves it
    as autograd on -mean Q(s, mu(s)) / action_size + w / 2 mean |mu(s) - mu'(s)|^2 would."""
    weight = 3.0
    agent = small_agent(seed=5, tau=0.1, proximal_weight=weight)
    rng = np.random.default_rng(6)
    batch = random_batch(rng)
    # Move the target actor away from the actor, so that the pull is not zero.
    for variable in agent.actor_target.network.trainable_variables:
        variable.assign(variable + rng.normal(0.0, 0.3, variable.shape).astype(np.float32))
    actor_before = [v.numpy() for v in agent.actor_local.network.trainable_variables]
    states = tf.constant(batch[0], tf.float32)
    target_actions = agent.actor_target.network(states).numpy()  # before learn's soft update moves it
    agent.learn(batch)

    moved = flat(agent.actor_local.network.trainable_variables) - flat(actor_before)

    def pull(actions):
        return weight / 2 * tf.reduce_mean(tf.square(actions - target_actions))

    expected = autograd_actor_step(agent, actor_before, states, pull)
    assert relative_error(moved, expected) <= 1e-3

    # Without the term the step is a different one: the pull is really in it.
    plain = small_agent(seed=5, tau=0.1)
    plain.learn(batch)
    plain_moved = flat(plain.actor_local.network.trainable_variables) - flat(actor_before)
    assert relative_error(plain_moved, expected) > 0.05
