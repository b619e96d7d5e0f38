"""The Gymnasium environments: API checks, seeding, episode ends, vector envs, DDPG through the adapter."""

import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium  # the optional extra (pip install .[gym]); the test requirements include it
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from agents.agent import DDPG, DDPGConfig
from agents.gym_task import GymTask
from quadcopter import envs
from quadcopter.controllers import PDAltitudeController
from quadcopter.tasks import POSITION_SCALE, TakeoffTask

ROOT = Path(__file__).resolve().parents[1]

TAKEOFF = "quadcopter.envs:QuadcopterTakeoff-v5"


@pytest.mark.parametrize("name", ["QuadcopterTakeoff-v5", "QuadcopterHover-v5", "QuadcopterReachTarget-v1"])
def test_env_checker_passes_without_warnings(name):
    env = gymnasium.make("quadcopter.envs:" + name, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning of the checker fails the test
        check_env(env.unwrapped)
    assert env.observation_space.dtype == np.float32 and env.action_space.dtype == np.float32
    assert env.action_space.low.tolist() == [-1] * 4 and env.action_space.high.tolist() == [1] * 4


def rollout(env, seed, steps=40):
    env.action_space.seed(seed)
    observations, rewards = [env.reset(seed=seed)[0]], []
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample() * 0.01 - 0.05)
        observations.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    return np.array(observations), np.array(rewards)


def test_same_seed_same_rollout_and_other_seeds_differ():
    env = gymnasium.make(TAKEOFF)
    a, b, c = rollout(env, 7), rollout(env, 7), rollout(env, 8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0][0], c[0][0])  # a different random start


def test_actions_map_to_rotor_speeds_and_match_the_task():
    """The env steps exactly as TakeoffTask given the mapped rotor speeds."""
    np.testing.assert_allclose(envs.to_rotor_speeds([-1, 0, 0.5, 1]), [0, 450, 675, 900])
    env = gymnasium.make(TAKEOFF).unwrapped
    obs, _ = env.reset(seed=0, options=dict(init_pose=np.zeros(6), init_velocities=np.zeros(3)))
    task = TakeoffTask(np.zeros(6))
    np.testing.assert_array_equal(obs, task.reset().astype(np.float32))
    for action in ([0.2, 0.2, 0.2, 0.2], [0.1, 0.15, 0.1, 0.12]):
        obs, reward, *_ = env.step(np.array(action, np.float32))
        state, task_reward, _ = task.step(envs.to_rotor_speeds(np.array(action, np.float32)))
        np.testing.assert_array_equal(obs, state.astype(np.float32))
        assert reward == task_reward


def test_a_crash_is_terminated_the_time_limit_truncated_and_success_reported():
    env = gymnasium.make(TAKEOFF)
    env.reset(seed=1, options=dict(init_pose=np.zeros(6), init_velocities=np.zeros(3)))  # on the ground
    _, _, terminated, truncated, info = env.step(-np.ones(4, np.float32))  # rotors off: a crash
    assert terminated and not truncated and not info["success"]

    # The PD controller flies the env (through the inverse action map) to a successful takeoff.
    env.reset(seed=1)
    sim, controller = env.unwrapped.task.sim, PDAltitudeController(target_z=10)
    terminated = truncated = False
    while not (terminated or truncated):
        action = controller.act(sim) / 450.0 - 1.0
        _, _, terminated, truncated, info = env.step(action.astype(np.float32))
    assert truncated and not terminated and info["success"] and abs(info["z"] - 10) < 0.1
    with pytest.raises(RuntimeError, match="call reset"):
        env.unwrapped.step(np.zeros(4, np.float32))


def test_bad_actions_and_options_raise_and_change_nothing():
    env = gymnasium.make(TAKEOFF).unwrapped
    obs, _ = env.reset(seed=3)
    pose = env.task.sim.pose.copy()
    for bad in (np.full(4, np.nan), np.zeros(3)):
        with pytest.raises(ValueError, match=r"shape \(4,\), in \[-1, 1\]"):
            env.step(bad)
    np.testing.assert_array_equal(env.task.sim.pose, pose)
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options=dict(init_z=3))
    with pytest.raises(ValueError, match="init_pose"):
        env.reset(options=dict(init_pose=[0, 0, np.nan, 0, 0, 0]))
    np.testing.assert_array_equal(env.task.sim.pose, pose)
    with pytest.raises(ValueError, match="task must be one of"):
        envs.QuadcopterEnv(task="landing")


def test_render_draws_the_quadcopter():
    env = gymnasium.make(TAKEOFF, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    for _ in range(10):
        env.step(np.full(4, 0.3, np.float32))
    later = env.render()
    assert first.shape == later.shape and first.shape[2] == 3 and first.dtype == np.uint8
    assert first.std() > 10 and not np.array_equal(first, later)  # a picture, and it changed as it climbed


@pytest.mark.parametrize("mode", ["sync", "vector_entry_point"])
def test_make_vec_sync_and_native_give_the_same_spaces_and_the_takeoff_rewards(mode):
    vec = gymnasium.make_vec(TAKEOFF, num_envs=3, vectorization_mode=mode)
    obs, _ = vec.reset(seed=5)
    assert obs.shape == (3, 15) and obs.dtype == np.float32
    assert vec.single_action_space.shape == (4,)
    ended = np.zeros(3, dtype=bool)
    for _ in range(5):
        obs, rewards, terminated, truncated, info = vec.step(-np.ones((3, 4), np.float32))  # all crash at once
        ended |= terminated
        assert rewards.shape == (3,) and obs.shape == (3, 15)
    assert ended.all() and not info["success"].any()
    vec.close()


def test_native_vector_env_restarts_rows_in_the_same_step():
    vec = envs.QuadcopterVectorEnv(num_envs=2)
    assert vec.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.SAME_STEP
    obs, _ = vec.reset(seed=0)
    actions = np.array([[-1, -1, -1, -1], [0.2, 0.2, 0.2, 0.2]], np.float32)  # row 0 crashes
    for _ in range(20):  # a start is up to 0.5 m high: a few steps of falling
        obs, _, terminated, truncated, info = vec.step(actions)
        if terminated.any():
            break
    assert terminated.tolist() == [True, False] and not truncated.any()
    assert info["_final_obs"].tolist() == [True, False]
    scale = POSITION_SCALE
    assert info["final_obs"][0][2] == pytest.approx(-10 / scale)  # ended on the ground: (0 - 10) / 2.5
    assert 0 <= obs[0][2] * scale + 10 <= 0.5 + 1e-6  # row 0 already holds a new start
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        vec.step(np.zeros((3, 4)))


def test_ddpg_trains_on_the_gymnasium_env_through_the_adapter():
    env = gymnasium.make(TAKEOFF)
    task = GymTask(env, seed=0)
    config = DDPGConfig(actor_units=(16, 16), critic_units=(16, 16), batch_size=16, warmup=32, buffer_size=1000, seed=0)
    agent = DDPG(task, config)
    assert (agent.state_size, agent.action_size) == (15, 4)
    before = [w.numpy().copy() for w in agent.actor_local.network.weights]
    steps = crashes = 0
    for _ in range(4):
        state = agent.reset_episode()
        done = False
        while not done:
            action = agent.act(state)
            assert np.all(action >= -1) and np.all(action <= 1)  # the env's action space
            next_state, reward, done = task.step(action)
            agent.step(action, reward, next_state, done)
            state = next_state
            steps += 1
            crashes += task.terminated
    assert len(agent.memory) == steps > config.warmup
    after = agent.actor_local.network.weights
    assert any(not np.array_equal(b, a.numpy()) for b, a in zip(before, after))  # it learned
    stored_ends = agent.memory.columns[4][: len(agent.memory)]
    assert sum(stored_ends) == crashes  # only crashes are stored as ends, never a time limit


def test_adapter_rejects_discrete_actions():
    with pytest.raises(ValueError, match="1-D Box action space"):
        GymTask(gymnasium.make("CartPole-v1"))


@pytest.mark.slow
def test_the_core_works_without_gymnasium(tmp_path):
    """With gymnasium unimportable, the simulator, tasks, agent, CLI and plots still work."""
    script = f"""
import sys
sys.modules["gymnasium"] = None  # any import of gymnasium now fails
sys.path.insert(0, {str(ROOT)!r})
import physics_sim, task, agents.agent, agents.policy_search, agents.gym_task, quadcopter.training, quadcopter.plots
from quadcopter.cli import main
main(["simulate", "--out", {str(tmp_path / "f.csv")!r}])
main(["plot", {str(tmp_path / "f.csv")!r}])
try:
    import quadcopter.envs
except ImportError:
    print("envs needs gymnasium")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "envs needs gymnasium" in result.stdout
    assert (tmp_path / "f_path.png").exists()
