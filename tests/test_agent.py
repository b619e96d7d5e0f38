"""The DDPG agent: the Udacity loop (act, step, update_every), saving the actor, seeds, any task."""

import keras
import numpy as np
import pytest
from agent_helpers import ACTION_SIZE, STATE_SIZE, flat, random_batch, small_agent

from agents.agent import DDPG, DDPGConfig
from agents.critic import build_critic_network
from task import Task


@pytest.mark.slow
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


@pytest.mark.parametrize("updates_per_step", [1, 3])
def test_step_makes_its_updates_every_update_every_steps(updates_per_step):
    agent = small_agent(seed=2)
    agent = DDPG(agent.task, agent.config.replace(update_every=4, updates_per_step=updates_per_step))
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
    # No update before the warm-up; then 4 x updates_per_step updates at every 4th step: updates_per_step
    # per step on average.
    made = 4 * updates_per_step
    expected = [sum(made for t in range(1, step + 1) if t >= warm and t % 4 == 0) for step in range(1, 31)]
    assert iterations == expected
    assert iterations[-1] > 0


def test_return_bounds_follow_the_reward_range():
    assert DDPG.return_bounds((0.0, 3.0), 0.95) == pytest.approx((0.0, 60.0))  # the takeoff's
    assert DDPG.return_bounds((-1.0, 2.0), 0.9) == pytest.approx((-10.0, 20.0))
    assert DDPG.return_bounds((0.5, 1.0), 0.5) == pytest.approx((0.0, 2.0))  # an episode may end at once: 0
    assert DDPG.return_bounds(None, 0.9) == (-np.inf, np.inf)


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


def test_policy_delay_moves_the_actor_and_targets_on_every_second_update_only():
    agent = small_agent(policy_delay=2)
    batch = random_batch(np.random.default_rng(3))

    def snapshot():
        networks = (
            agent.actor_local.network,
            agent.critic_local.model,
            agent.actor_target.network,
            agent.critic_target.model,
        )
        return [flat(network.weights) for network in networks]

    before = snapshot()
    agent.learn(batch)  # update 1: the critic only
    after_one = snapshot()
    assert not np.array_equal(after_one[1], before[1])
    for i in (0, 2, 3):
        np.testing.assert_array_equal(after_one[i], before[i])
    agent.learn(batch)  # update 2: the critic, then the actor and both targets
    after_two = snapshot()
    assert all(not np.array_equal(after_two[i], after_one[i]) for i in range(4))
    assert int(agent.updates_made.numpy()) == 2


def test_a_layer_normalised_critic_normalises_each_hidden_layer():
    agent = small_agent(critic_layer_norm=True)
    model = agent.critic_local.model
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.LayerNormalization)]
    assert [layer.name for layer in norms] == ["layer_norm_0", "layer_norm_1"]
    states = np.random.default_rng(0).normal(size=(8, STATE_SIZE)).astype(np.float32) * 100.0
    hidden = keras.Model(model.inputs, model.get_layer("layer_norm_0").output)
    out = hidden([states, np.zeros((8, 4), np.float32)]).numpy()
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-4)  # whatever the scale of the states
    np.testing.assert_allclose(out.std(axis=1), 1.0, rtol=1e-2)
    agent.learn(random_batch(np.random.default_rng(1)))  # and it trains


@pytest.mark.parametrize(
    "action_layer, widths",
    [(0, (STATE_SIZE + ACTION_SIZE, 32)), (1, (STATE_SIZE, 32 + ACTION_SIZE)), (2, (STATE_SIZE, 32))],
)
def test_the_actions_join_the_critic_where_critic_action_layer_says(action_layer, widths):
    # widths: the inputs of hidden_0 and hidden_1 (2: the actions join the output layer instead).
    agent = small_agent(critic_action_layer=action_layer)
    model = agent.critic_local.model
    assert (model.get_layer("hidden_0").kernel.shape[0], model.get_layer("hidden_1").kernel.shape[0]) == widths
    assert model.get_layer("q_value").kernel.shape[0] == 24 + ACTION_SIZE * (action_layer == 2)
    # Q depends on the actions wherever they join.
    states = np.zeros((1, STATE_SIZE), np.float32)
    q_values = [model([states, np.full((1, ACTION_SIZE), a, np.float32)]).numpy() for a in (-1.0, 1.0)]
    assert q_values[0] != q_values[1]


def test_the_general_critic_takes_the_actions_at_its_input():
    assert DDPGConfig().critic_action_layer == 0
    with pytest.raises(
        ValueError, match=r"critic_action_layer must be an integer in \[0, len\(critic_units\)=2\]; got 3"
    ):
        DDPGConfig(critic_units=(8, 8), critic_action_layer=3).validate()
    with pytest.raises(ValueError, match=r"action_layer must be an integer in \[0, 1\] for units \(8,\); got 2"):
        build_critic_network(STATE_SIZE, ACTION_SIZE, (8,), action_layer=2)


def test_noise_before_the_tanh_leaves_an_action_at_its_bound_and_is_the_usual_noise_near_zero():
    actions = np.array([[0.0, 0.3, 1.0, -1.0]], np.float32)  # float32 tanh outputs reach +-1 exactly
    draw = np.array([0.01, -0.02, -0.3, 0.5])
    before, after = small_agent(), small_agent(noise_before_tanh=False)
    assert before.config.noise_before_tanh and DDPGConfig().noise_before_tanh  # the general default
    squashed, clipped = before.add_noise(actions, draw)[0], after.add_noise(actions, draw)[0]
    np.testing.assert_allclose(clipped, [0.01, 0.28, 0.7, -0.5], rtol=1e-6)
    assert abs(squashed[0] - 0.01) < 1e-5  # near 0 the tanh's slope is 1: the same noise
    assert squashed[2] > 0.999_99 and squashed[3] < -0.999_99  # at a bound the noise cannot move it off
    assert np.all(np.isfinite(before.add_noise(actions, np.full(4, 50.0)))) and np.all(np.abs(squashed) <= 1)


@pytest.mark.parametrize("before_tanh", [True, False])
def test_act_adds_the_noise_where_the_config_says(before_tanh, monkeypatch):
    agent = small_agent(noise_before_tanh=before_tanh)
    monkeypatch.setattr(agent, "policy", lambda states: np.ones((1, ACTION_SIZE), np.float32))
    monkeypatch.setattr(agent.noise, "sample", lambda: np.full(ACTION_SIZE, -0.3))
    normalised = agent.to_normalised(agent.act(np.zeros(STATE_SIZE)))
    expected = agent.add_noise(np.ones((1, ACTION_SIZE)), np.full(ACTION_SIZE, -0.3))[0]
    np.testing.assert_allclose(normalised, expected, atol=1e-5)
    assert (normalised > 0.999).all() == before_tanh  # at full output, only the noise before the tanh keeps it there
