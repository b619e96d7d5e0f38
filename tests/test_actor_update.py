"""Proof of the trick: training the actor on -action_gradients * actions is the chain rule."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from agents.actor import Actor
from agents.agent import DDPG, DDPGConfig
from agents.critic import Critic
from task import Task

STATE_SIZE, ACTION_SIZE = 12, 4


def flat(variables):
    return np.concatenate([np.ravel(v.numpy() if hasattr(v, "numpy") else v) for v in variables])


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


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


def small_agent(seed=0, **changes):
    # Plain action gradients (no inverting gradients), so that learn can be compared with autograd
    # through the critic.
    config = DDPGConfig(actor_units=(32, 24), critic_units=(32, 24), seed=seed, batch_size=16, warmup=16,
                        buffer_size=1000, final_init=0.3, invert_gradients=False).replace(**changes)
    return DDPG(Task(seed=seed), config)


def random_batch(rng, n=16):
    return (rng.normal(size=(n, STATE_SIZE)), rng.uniform(-1, 1, (n, ACTION_SIZE)), rng.normal(size=n),
            rng.normal(size=(n, STATE_SIZE)), (rng.random(n) < 0.2).astype(float))


def test_one_learn_call_moves_the_actor_as_autograd_through_the_critic_would():
    agent = small_agent(tau=0.1)
    batch = random_batch(np.random.default_rng(1))
    actor_before = [v.numpy() for v in agent.actor_local.network.trainable_variables]
    agent.learn(batch)

    # Expected: one Adam step (fresh optimizer, same settings) on the autograd gradient of
    # -mean Q(s, mu(s)) / action_size, with the critic as it is after its own step (it goes first).
    replica = keras.models.clone_model(agent.actor_local.network)
    for variable, value in zip(replica.trainable_variables, actor_before):
        variable.assign(value)
    states = tf.constant(batch[0], tf.float32)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(agent.critic_local.model([states, replica(states)])) / ACTION_SIZE
    gradients = tape.gradient(loss, replica.trainable_variables)
    optimizer = keras.optimizers.Adam(agent.config.actor_lr)
    optimizer.apply_gradients(zip(gradients, replica.trainable_variables))

    moved = flat(agent.actor_local.network.trainable_variables) - flat(actor_before)
    expected = flat(replica.trainable_variables) - flat(actor_before)
    assert np.linalg.norm(expected) > 0
    assert relative_error(moved, expected) <= 1e-3


def test_targets_are_soft_updated_after_learn():
    agent = small_agent(tau=0.05)
    rng = np.random.default_rng(2)
    agent.learn(random_batch(rng))  # make locals and targets differ
    pairs = [(agent.actor_target.network, agent.actor_local.network), (agent.critic_target.model, agent.critic_local.model)]
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
    for a, b in ((udacity.actor_local.network, fused.actor_local.network),
                 (udacity.critic_local.model, fused.critic_local.model),
                 (udacity.actor_target.network, fused.actor_target.network),
                 (udacity.critic_target.model, fused.critic_target.model)):
        np.testing.assert_allclose(flat(a.weights), flat(b.weights), rtol=1e-4, atol=1e-6)


def test_the_same_seed_gives_the_same_numbers():
    runs = []
    for _ in range(2):
        agent = small_agent(seed=11)
        rng = np.random.default_rng(0)
        for _ in range(3):
            agent.learn(random_batch(rng))
        state = agent.reset_episode()
        runs.append((flat(agent.actor_local.network.weights), agent.act(state), agent.act(state)))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    other = small_agent(seed=12)
    assert not np.array_equal(flat(other.actor_local.network.weights), runs[0][0])


@pytest.mark.parametrize("change, message", [
    (dict(tau=-0.1), r"DDPGConfig.tau must be in \(0, 1\]; got -0.1"),
    (dict(batch_size=2000), r"DDPGConfig.batch_size must be an integer in \[1, buffer_size=1000\]"),
    (dict(gamma=1.0), r"DDPGConfig.gamma must be in \[0, 1\)"),
    (dict(noise="pink"), r"DDPGConfig.noise must be one of"),
    (dict(actor_lr=float("nan")), r"DDPGConfig.actor_lr must be"),
    (dict(colour=3), r"unknown DDPGConfig settings \['colour'\]"),
])
def test_bad_config_values_raise_before_anything_is_built(change, message):
    with pytest.raises(ValueError, match=message):
        small_agent(**change)


def test_saved_actor_reloads_and_maps_states_to_rotor_speeds(tmp_path):
    agent = small_agent()
    path = tmp_path / "actor.keras"
    agent.actor_local.model.save(path)
    loaded = keras.models.load_model(path)
    states = np.random.default_rng(0).normal(size=(5, STATE_SIZE)).astype(np.float32)
    speeds = loaded(states).numpy()
    np.testing.assert_allclose(speeds, agent.actor_local.model(states).numpy(), rtol=1e-6)
    assert speeds.shape == (5, 4) and speeds.min() >= 0 and speeds.max() <= 900
    greedy = agent.act_greedy(states[0])
    np.testing.assert_allclose(greedy, speeds[0], rtol=1e-5)


class PointTask:
    """A task that is not a quadcopter: move a point on a line towards 0 with a 1-D force in [-2, 2]."""

    state_size, action_size, action_low, action_high = 2, 1, -2.0, 2.0

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def reset(self):
        self.position, self.velocity, self.steps = self.rng.uniform(-1, 1), 0.0, 0
        return np.array([self.position, self.velocity])

    def step(self, action):
        self.velocity += 0.1 * float(action[0])
        self.position += 0.1 * self.velocity
        self.steps += 1
        self.terminated = abs(self.position) > 5
        return np.array([self.position, self.velocity]), -abs(self.position), self.terminated or self.steps >= 20


def test_ddpg_runs_any_task_with_the_udacity_loop():
    task = PointTask()
    agent = DDPG(task, DDPGConfig(actor_units=(16, 16), critic_units=(16, 16), batch_size=8, warmup=8, buffer_size=100))
    for _ in range(3):
        state = agent.reset_episode()
        done = False
        while not done:
            action = agent.act(state)
            assert action.shape == (1,) and -2 <= action[0] <= 2
            next_state, reward, done = task.step(action)
            agent.step(action, reward, next_state, done)
            state = next_state
    assert len(agent.memory) == 60
    assert len(agent.memory.sample()) == 8


def test_policy_search_agent_keeps_its_best_weights():
    from agents.policy_search import PolicySearch_Agent

    task = Task()
    agent = PolicySearch_Agent(task, rng=np.random.default_rng(0))
    scores = []
    for _ in range(5):
        state = agent.reset_episode()
        done = False
        while not done:
            state, reward, done = task.step(agent.act(state))
            agent.step(reward, done)
        scores.append(agent.score)
    assert agent.best_score == max(scores)


def test_act_after_step_uses_the_updated_actor_without_a_compiled_call():
    agent = small_agent(seed=5)
    assert agent.config.update_every > 1
    task = agent.task
    state = agent.reset_episode()
    acting_calls = []
    compiled_act = agent._act
    agent._act = lambda states: acting_calls.append(states) or compiled_act(states)
    before = [w.numpy() for w in agent.actor_local.network.weights]
    for _ in range(40):  # past the warm-up, so step() learns every update_every steps
        action = agent.act(state)
        next_state, reward, done = task.step(action)
        agent.step(action, reward, next_state, done)
        state = agent.reset_episode() if done else next_state
    assert not acting_calls  # act() flies the numpy copy of the actor
    after = agent.actor_local.network.weights
    assert not np.array_equal(before[0], after[0].numpy())  # step() learned ...
    greedy = agent.act(state, explore=False)  # ... and act() uses the actor as it is now
    network = agent.to_task_actions(agent.actor_local.network(state[None, :].astype(np.float32)).numpy()[0])
    np.testing.assert_allclose(greedy, network, rtol=1e-5, atol=1e-3)


def test_step_makes_update_every_updates_every_update_every_steps():
    agent = small_agent(seed=2)
    agent = DDPG(agent.task, agent.config.replace(update_every=4))
    task = agent.task
    state = agent.reset_episode()
    iterations = []
    for _ in range(30):
        action = agent.act(state)
        next_state, reward, done = task.step(action)
        agent.step(action, reward, next_state, done)
        iterations.append(int(agent.critic_local.optimizer.iterations.numpy()))
        state = agent.reset_episode() if done else next_state
    warm = agent.config.warmup
    # No update before the warm-up; then 4 updates at every 4th step: one per step on average.
    expected = [sum(4 for t in range(1, step + 1) if t >= warm and t % 4 == 0) for step in range(1, 31)]
    assert iterations == expected
    assert iterations[-1] > 0


def test_inverting_gradients_leave_no_push_beyond_a_bound():
    action_gradients = tf.constant([[2.0, 2.0, -2.0, -2.0, 2.0]])
    actions = tf.constant([[1.0, 0.0, -1.0, 0.0, -1.0]])
    bounded = DDPG.bounded_action_gradients(action_gradients, actions).numpy()
    # At the upper bound no push up, halfway half of it, at the lower bound no push down, and a
    # push back from a bound is kept whole.
    np.testing.assert_allclose(bounded, [[0.0, 1.0, 0.0, -1.0, 2.0]])


def test_inverting_gradients_is_an_option_of_learn():
    task = Task()
    config = DDPGConfig(actor_units=(16, 16), critic_units=(16, 16), batch_size=8, warmup=8, buffer_size=64,
                        invert_gradients=True, seed=3)
    agent = DDPG(task, config)
    rng = np.random.default_rng(0)
    batch = (rng.normal(size=(8, 12)), rng.uniform(-1, 1, (8, 4)), rng.uniform(0, 3, 8), rng.normal(size=(8, 12)),
             np.zeros(8))
    before = flat(agent.actor_local.network.weights)
    agent.learn(batch)
    inverted = flat(agent.actor_local.network.weights)
    assert not np.array_equal(inverted, before)
    plain = DDPG(task, config.replace(invert_gradients=False))
    plain.learn(batch)
    assert not np.allclose(flat(plain.actor_local.network.weights), inverted)  # the option changes the step
    assert json_round_trip(config).invert_gradients is True


def json_round_trip(config):
    return DDPGConfig.from_json(config.to_json())


def test_replay_buffer_keeps_the_newest_experiences_and_samples_without_replacement():
    from agents.replay_buffer import Experience, ReplayBuffer

    memory = ReplayBuffer(buffer_size=5, batch_size=5, rng=np.random.default_rng(0))
    for i in range(7):  # the first two are overwritten
        memory.add(np.full(3, i), np.full(2, -i), float(i), np.full(3, i + 1), i == 6)
    assert len(memory) == 5
    batch = memory.sample()
    assert all(isinstance(e, Experience) for e in batch)
    assert sorted(e.reward for e in batch) == [2.0, 3.0, 4.0, 5.0, 6.0]  # each once: no replacement
    for e in batch:
        np.testing.assert_array_equal(e.state, np.full(3, e.reward))
        np.testing.assert_array_equal(e.action, np.full(2, -e.reward))
        np.testing.assert_array_equal(e.next_state, np.full(3, e.reward + 1))
        assert e.done is (e.reward == 6.0)
    states, actions, rewards, next_states, dones = memory.sample_arrays(3)
    assert states.shape == (3, 3) and actions.shape == (3, 2) and rewards.shape == dones.shape == (3,)
    np.testing.assert_array_equal(states[:, 0], rewards)


def test_return_bounds_follow_the_reward_range():
    assert DDPG.return_bounds((0.0, 3.0), 0.95) == pytest.approx((0.0, 60.0))  # the takeoff's
    assert DDPG.return_bounds((-1.0, 2.0), 0.9) == pytest.approx((-10.0, 20.0))
    assert DDPG.return_bounds((0.5, 1.0), 0.5) == pytest.approx((0.0, 2.0))  # an episode may end at once: 0
    assert DDPG.return_bounds(None, 0.9) == (-np.inf, np.inf)


@pytest.mark.parametrize("clip", [True, False])
def test_the_critic_regresses_on_targets_clipped_to_the_task_returns(clip):
    """A target critic that says 1000 where at most 3 / (1 - 0.95) = 60 can be earned: with
    clip_q_targets the critic's loss is measured against 60, without it against 1 + 0.95 * 1000."""
    agent = DDPG(Task(), DDPGConfig(actor_units=(16, 16), critic_units=(16, 16), batch_size=8, warmup=8,
                                    invert_gradients=False, clip_q_targets=clip, gamma=0.95))
    assert agent.task.reward_range == (0.0, 3.0)
    output = agent.critic_target.model.get_layer("q_value")
    output.kernel.assign(np.zeros(output.kernel.shape, np.float32))
    output.bias.assign(np.full(output.bias.shape, 1000.0, np.float32))
    rng = np.random.default_rng(0)
    batch = (rng.normal(size=(8, 12)), rng.uniform(-1, 1, (8, 4)), np.ones(8), rng.normal(size=(8, 12)), np.zeros(8))
    q_before = agent.critic_local.model([batch[0].astype(np.float32), batch[1].astype(np.float32)]).numpy()
    critic_loss, _ = agent.learn(batch)
    target = 60.0 if clip else 1.0 + 0.95 * 1000.0
    assert critic_loss == pytest.approx(float(np.mean((q_before - target) ** 2)), rel=1e-5)


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
    with pytest.raises(ValueError, match=r"DDPGConfig.target_noise must be in \[0, 2\]; got -0.1"):
        small_agent(target_noise=-0.1)


def test_act_follows_every_change_of_the_actor():
    """learn() and set_actor_weights() change the actor; act() then flies the actor as it is."""
    agent = small_agent(seed=6)
    state = agent.reset_episode()

    def network_action():
        return agent.to_task_actions(agent.actor_local.network(state[None, :].astype(np.float32)).numpy()[0])

    before = agent.act(state, explore=False)
    agent.learn(random_batch(np.random.default_rng(1)))
    after_learn = agent.act(state, explore=False)
    assert not np.allclose(before, after_learn)
    np.testing.assert_allclose(after_learn, network_action(), rtol=1e-5, atol=1e-3)
    agent.set_actor_weights([np.zeros_like(w) for w in agent.actor_weights()])
    np.testing.assert_allclose(agent.act(state, explore=False), network_action(), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(agent.act(state, explore=False), agent.to_task_actions(np.zeros(4)))
