"""The takeoff preset: the tuned DDPG that train, the notebook and a learner's loop use."""

import numpy as np
import pytest

from agents.agent import DDPG, DDPGConfig
from task import Task


def test_takeoff_agent_is_a_ddpg_with_the_preset_and_the_udacity_methods():
    from quadcopter import takeoff_agent, takeoff_config
    from quadcopter.presets import TAKEOFF_CONFIG

    agent = takeoff_agent(Task(seed=3), seed=3)
    assert isinstance(agent, DDPG)
    assert agent.config == TAKEOFF_CONFIG.replace(seed=3) == takeoff_config(3)
    for name in (
        "reset_episode",
        "act",
        "step",
        "learn",
        "actor_local",
        "actor_target",
        "critic_local",
        "critic_target",
        "memory",
        "noise",
    ):
        assert hasattr(agent, name), name
    # As documented: small networks, a slow actor, target-policy smoothing, a layer-normalised critic.
    config = agent.config
    assert config.actor_units == config.critic_units == (64, 64)
    assert (config.actor_lr, config.gamma, config.tau, config.target_noise) == (3e-5, 0.95, 1e-3, 0.03)
    assert config.update_every == 16
    assert config.critic_action_layer == 1  # the paper's critic, as the preset was tuned with
    assert config.invert_gradients  # as it was tuned with; the general default is off
    assert config.noise_sigma == 0.01  # Task()'s simulator, the Udacity one
    layers = [layer.__class__.__name__ for layer in agent.critic_local.model.layers]
    assert layers.count("LayerNormalization") == 2
    state = agent.reset_episode()
    action = agent.act(state)
    assert action.shape == (4,) and np.all((0 <= action) & (action <= 900))


def test_the_general_defaults_are_not_the_takeoff_preset():
    from quadcopter.presets import TAKEOFF_CONFIG

    general = DDPGConfig()
    assert general.actor_units == (256, 256) and general.gamma == 0.995
    assert general.critic_units == (256, 256, 256) and general.proximal_weight == 3.0
    assert general.critic_action_layer == 0 and not general.invert_gradients
    assert TAKEOFF_CONFIG.proximal_weight == 0.0  # tuned without the proximal term
    assert general != TAKEOFF_CONFIG.replace(seed=general.seed)


def test_each_simulator_has_its_own_exploration_noise():
    from quadcopter import takeoff_agent, takeoff_config
    from quadcopter.presets import EXPLORATION_NOISE, TAKEOFF_CONFIG

    assert EXPLORATION_NOISE == {"udacity": 0.01, "rigid_body": 0.05}
    assert takeoff_config(2, "rigid_body") == TAKEOFF_CONFIG.replace(seed=2, noise_sigma=0.05)
    assert takeoff_config(2) == takeoff_config(2, "udacity") == TAKEOFF_CONFIG.replace(seed=2)
    assert takeoff_agent(Task(dynamics="rigid_body"), seed=2).config.noise_sigma == 0.05
    with pytest.raises(ValueError, match="'rigid'"):
        takeoff_config(0, "rigid")
