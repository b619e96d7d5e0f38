"""The Udacity reward hook: a ``Task`` subclass's ``get_reward()`` is the reward, per simulator step, summed."""

import numpy as np
import pytest

from agents.agent import DDPG, DDPGConfig
from quadcopter.tasks import REWARD_MAX, ReachTargetTask, takeoff_reward
from task import Task

SMALL = DDPGConfig(actor_units=(8,), critic_units=(8, 8), batch_size=4, warmup=4, buffer_size=64, update_every=1)


class ConstantReward(Task):
    def get_reward(self):
        return 1.0


class TimeReward(Task):
    """Pays the simulator's clock after each sub-step: shows that get_reward is called after every one."""

    def get_reward(self):
        return self.sim.time


def test_an_overridden_get_reward_is_the_reward_summed_over_the_sub_steps():
    task = ConstantReward(init_pose=[0, 0, 5, 0, 0, 0])
    task.reset()
    _, reward, _ = task.step([404] * 4)
    assert reward == 3.0  # the case: the takeoff's reward was paid instead (3.7)
    clock = TimeReward(init_pose=[0, 0, 5, 0, 0, 0])
    clock.reset()
    _, reward, _ = clock.step([404] * 4)
    assert reward == pytest.approx(0.02 + 0.04 + 0.06)


def test_the_takeoff_pays_its_own_reward_through_the_same_hook():
    task = Task(init_pose=[0, 0, 5, 0, 0, 0])
    task.reset()
    expected = 0.0
    probe = Task(init_pose=[0, 0, 5, 0, 0, 0])
    probe.reset()
    for _ in range(3):
        probe.sim.next_timestep([404] * 4)
        expected += float(takeoff_reward(probe.sim.pose, probe.sim.v, probe.sim.angular_v, probe.target_pos))
    _, reward, _ = task.step([404] * 4)
    assert reward == pytest.approx(expected, rel=1e-12)


def test_the_udacity_sample_task_can_be_given_a_reward_too():
    class Closer(ReachTargetTask):
        def get_reward(self):
            return -float(np.abs(self.sim.pose[:3] - self.target_pos).sum())

    task = Closer(init_pose=[0, 0, 8, 0, 0, 0])
    task.reset()
    _, reward, _ = task.step([404] * 4)
    assert -6.5 < reward < -5.5  # three sub-steps about 2 m below the target


def test_the_agent_learns_from_the_overridden_reward():
    task = ConstantReward(init_pose=[0, 0, 5, 0, 0, 0])
    agent = DDPG(task, SMALL)
    state = agent.reset_episode()
    for _ in range(6):
        action = agent.act(state)
        state, reward, done = task.step(action)
        agent.step(action, reward, state, done)
    rewards = agent.memory.columns[2][: len(agent.memory)]
    assert len(rewards) == 6 and set(rewards.tolist()) == {3.0}


def test_a_subclass_with_its_own_reward_has_no_takeoff_reward_range():
    assert Task().reward_range == (0.0, 3 * REWARD_MAX)
    assert ConstantReward().reward_range is None
    agent = DDPG(ConstantReward(), SMALL.replace(clip_q_targets=True))
    assert agent.q_bounds is None  # the takeoff's bounds would clip this task's returns


def test_the_old_hook_name_is_refused_with_the_new_one():
    with pytest.raises(TypeError, match=r"defines step_reward\(\); the reward hook is get_reward\(\)"):

        class Old(Task):
            def step_reward(self):
                return 1.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), np.ones(3), "high", None])
def test_a_reward_that_is_not_one_finite_number_names_the_task(bad):
    class Broken(Task):
        def get_reward(self):
            return bad

    task = Broken(init_pose=[0, 0, 5, 0, 0, 0])
    task.reset()
    with pytest.raises(ValueError, match=r"Broken.get_reward\(\) must return one finite number"):
        task.step([404] * 4)
