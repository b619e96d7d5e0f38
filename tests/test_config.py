"""DDPGConfig: validation with messages that name the setting, and the JSON a run saves."""

import json

import pytest
from agent_helpers import small_agent

from agents.agent import DDPGConfig


def test_a_config_survives_its_json_and_refuses_a_damaged_one():
    config = DDPGConfig(actor_units=(8, 4), critic_layer_norm=True, policy_delay=2, seed=7)
    assert DDPGConfig.from_json(config.to_json()) == config
    damaged = config.to_json().replace('"tau"', '"tua"')
    with pytest.raises(ValueError, match=r"missing \['tau'\], unknown \['tua'\]"):
        DDPGConfig.from_json(damaged)


def test_a_config_saved_before_critic_action_layer_existed_keeps_its_critic():
    # Runs saved before the setting had the paper's critic, the actions joining after its first layer.
    old = json.loads(DDPGConfig().to_json())
    del old["critic_action_layer"]
    assert DDPGConfig.from_json(json.dumps(old)) == DDPGConfig(critic_action_layer=1)


def test_a_config_saved_before_updates_per_step_existed_keeps_one_update_per_step():
    old = json.loads(DDPGConfig(updates_per_step=3).to_json())
    del old["updates_per_step"]
    assert DDPGConfig.from_json(json.dumps(old)).updates_per_step == 1


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(tau=-0.1), r"DDPGConfig.tau must be a number in \(0, 1\]; got -0.1"),
        (dict(batch_size=2000), r"DDPGConfig.batch_size must be an integer in \[1, min\(buffer_size=1000, 65,536\)\]"),
        (dict(gamma=1.0), r"DDPGConfig.gamma must be a number in \[0, 1\)"),
        (dict(noise="pink"), r"DDPGConfig.noise must be one of"),
        (dict(updates_per_step=0), r"DDPGConfig.updates_per_step must be an integer in \[1, 100\]; got 0"),
        (dict(proximal_weight=-1.0), r"DDPGConfig.proximal_weight must be a number in \[0, 100\]; got -1.0"),
        (dict(actor_lr=float("nan")), r"DDPGConfig.actor_lr must be"),
        (dict(colour=3), r"unknown DDPGConfig settings \['colour'\]"),
    ],
)
def test_bad_config_values_raise_before_anything_is_built(change, message):
    with pytest.raises(ValueError, match=message):
        small_agent(**change)


def test_a_config_saved_before_noise_before_tanh_existed_keeps_the_noise_it_explored_with():
    old = json.loads(DDPGConfig().to_json())
    del old["noise_before_tanh"]
    assert DDPGConfig.from_json(json.dumps(old)).noise_before_tanh is False


def test_a_config_saved_before_proximal_weight_existed_keeps_the_actor_step_it_learned_with():
    old = json.loads(DDPGConfig().to_json())
    del old["proximal_weight"]
    assert DDPGConfig.from_json(json.dumps(old)) == DDPGConfig(proximal_weight=0.0)
