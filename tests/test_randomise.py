"""Domain randomisation (quadcopter/randomise.py, train --randomise): the spec, the draws, and the same
randomised episodes on the numpy and fused paths."""

import numpy as np
import pytest
import tensorflow as tf

from agents.agent import DDPGConfig
from quadcopter import PhysicsSim, VectorPhysicsSim
from quadcopter import randomise as rnd
from quadcopter.dynamics import UDACITY_AIRFRAME
from quadcopter.evaluation import delayed
from quadcopter.settings import TrainSettings
from quadcopter.tensor_task import TENSOR_MATH, initial_state, numpy_starts, task_step
from quadcopter.training import train
from quadcopter.vector_task import ScalarTask, VectorTask


def test_the_spec_reads_presets_and_items_and_refuses_the_rest():
    assert rnd.parse_randomise("off") == rnd.Randomisation()
    assert not rnd.parse_randomise("off").anything
    default = rnd.parse_randomise("default")
    assert (default.mass, default.inertia, default.thrust, default.delay) == ((0.75, 1.25),) * 2 + ((0.9, 1.1), (0, 2))
    custom = rnd.parse_randomise("mass=0.8:1.2, delay=1:2,noise=0.01")
    assert custom == rnd.Randomisation(mass=(0.8, 1.2), delay=(1, 2), noise=0.01)
    assert custom.changes_body and custom.delays
    for bad, named in [
        ("weight=0.8:1.2", "'weight=0.8:1.2'"),
        ("mass=0.8:1.2,mass=0.9:1.1", "'mass=0.9:1.1'"),
        ("mass=1.2:0.8", "mass='1.2:0.8'"),
        ("mass=0.05:1", "mass='0.05:1'"),
        ("delay=0:3", "delay='0:3'"),
        ("delay=0.5:1", "delay='0.5:1'"),
        ("noise=-1", "noise='-1'"),
        ("noise=x", "noise='x'"),
        ("", "''"),
    ]:
        with pytest.raises(ValueError, match=f"--randomise {named}.*" if bad else "--randomise takes") as error:
            rnd.parse_randomise(bad)
        assert "delay LOW:HIGH integers in [0, 2]" in str(error.value)


def test_train_settings_check_the_spec_and_that_the_dynamics_can_change_the_body():
    with pytest.raises(ValueError, match=r"randomise must be one of \['off', 'default'\], or KEY=VALUE.*got 'heavy'"):
        TrainSettings(randomise="heavy").validate()
    with pytest.raises(ValueError, match="randomising mass, inertia or thrust needs dynamics='rigid_body'"):
        TrainSettings(randomise="default").validate()
    TrainSettings(randomise="delay=0:2,noise=0.01").validate()  # the udacity dynamics can delay and add noise
    saved = TrainSettings(randomise="default", dynamics="rigid_body").validate().randomise
    # A run saves the preset's items, not its name: it keeps its meaning if the preset changes.
    assert saved == "mass=0.75:1.25,inertia=0.75:1.25,thrust=0.9:1.1,delay=0:2,noise=0.005,history=2"
    assert rnd.parse_randomise(saved) == rnd.PRESETS["default"]
    assert TrainSettings().validate().randomise == "off"


def test_delayed_actions_match_the_evaluations_delay():
    """delay_actions, row by row with delays 0, 1 and 2, applies what evaluation.delayed applies."""
    actions = np.arange(1.0, 8.0)[:, None, None] * np.ones((1, 3, 4))  # 7 steps, 3 rows
    delays, pending, fresh = np.array([0.0, 1.0, 2.0]), np.zeros((3, 2, 4)), np.ones(3, bool)
    applied = []
    for action in actions:
        speeds, pending = rnd.delay_actions(action, pending, fresh, delays, np)
        fresh = np.zeros(3, bool)
        applied.append(speeds[:, 0])
    for row, steps in enumerate((0, 1, 2)):
        calls = iter(actions[:, row])
        late = delayed(lambda states, calls=calls: next(calls)[None, :], steps)
        assert [row_speeds[row] for row_speeds in applied] == [late(None)[0, 0] for _ in actions]
    assert [row_speeds[2] for row_speeds in applied] == [1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_each_row_flies_its_own_body():
    """A VectorPhysicsSim with per-row factors flies each row as a PhysicsSim of that scaled airframe."""
    rng = np.random.default_rng(3)
    n = 6
    factors = rng.uniform(0.7, 1.3, (n, 3))
    pose = np.c_[np.zeros((n, 2)), np.full(n, 10.0), rng.uniform(-0.2, 0.2, (n, 3))]
    vector = VectorPhysicsSim(pose, runtime=1e9, dynamics="rigid_body")
    vector.body_factors = factors
    singles = [
        PhysicsSim(pose[i], runtime=1e9, dynamics="rigid_body", airframe=UDACITY_AIRFRAME.scaled(*factors[i]))
        for i in range(n)
    ]
    for _ in range(50):
        speeds = rng.uniform(380, 430, (n, 4))
        vector.next_timestep(speeds)
        for i, sim in enumerate(singles):
            sim.next_timestep(speeds[i])
    expected = np.array([np.r_[sim.pose, sim.v, sim.angular_v] for sim in singles])
    np.testing.assert_allclose(np.c_[vector.pose, vector.v, vector.angular_v], expected, rtol=1e-12, atol=1e-12)
    assert np.ptp(vector.pose[:, 2]) > 0.05  # the bodies differ enough to fly apart


def test_the_fused_step_flies_the_numpy_paths_randomised_episodes():
    """Same starts, actions, factors, delays and noise: task_step (the fused path's, on tensors) gives the numpy
    VectorTask's randomised observations, rewards and ends, through restarts that draw new bodies and delays."""
    n, runtime = 12, 1.5
    randomisation = rnd.Randomisation(mass=(0.7, 1.3), inertia=(0.7, 1.3), thrust=(0.9, 1.1), delay=(0, 2), noise=0.01)
    envs = VectorTask(
        n, np.random.default_rng(1), runtime=runtime, dynamics="rigid_body", air_starts=0.5, randomisation=randomisation
    )
    rng = np.random.default_rng(2)

    def restarts():
        sim = envs.sim
        starts = numpy_starts(sim.init_pose, sim.init_velocities, sim.init_angle_velocities)
        return tf.constant(starts), tf.constant(envs.goals), tf.constant(envs.in_air)

    starts, goals, in_air = restarts()
    state = initial_state(starts, in_air, goals)
    pending, fresh = tf.zeros((n, 2, 4), tf.float64), tf.ones((n,), tf.bool)
    ended = 0
    for _ in range(120):
        factors, delays = envs.sim.body_factors.copy(), envs.delays.copy()
        actions = rng.uniform(350, 480, (n, 4))
        result_numpy = envs.step(actions)
        speeds, pending = rnd.delay_actions(tf.constant(actions), pending, fresh, tf.constant(delays), TENSOR_MATH)
        state, result = task_step(
            envs.task,
            state,
            speeds,
            restarts(),
            runtime=runtime,
            dynamics="rigid_body",
            body=rnd.bodies(UDACITY_AIRFRAME, tf.constant(factors)),
            observation_noise=tf.constant(envs.sensor_noise),
        )
        fresh = result.ended
        np.testing.assert_allclose(result.next_states.numpy(), result_numpy.next_states, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(result.states.numpy(), result_numpy.states, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(result.rewards.numpy(), result_numpy.rewards, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(result.ended.numpy(), result_numpy.terminated | result_numpy.truncated)
        ended += int(result.ended.numpy().sum())
    assert ended >= n  # episodes ended and restarted with new draws
    assert len(np.unique(envs.delays)) == 3 and np.all(np.isin(envs.delays, (0, 1, 2)))
    assert np.all((envs.sim.body_factors[:, :2] >= 0.7) & (envs.sim.body_factors[:, :2] <= 1.3))


def test_noise_reaches_the_observation_but_not_the_reward():
    """Two tasks from the same starts, with and without observation noise: the same rewards and ends, states
    apart by about the noise."""
    starts = np.c_[np.zeros((50, 2)), np.full(50, 10.0), np.zeros((50, 9))]
    noisy, clean = (
        VectorTask(50, np.random.default_rng(0), randomisation=rnd.Randomisation(noise=noise)) for noise in (0.01, 0.0)
    )
    gaps = []
    for envs in (noisy, clean):
        envs.restart_from(starts)
    for _ in range(20):
        a, b = noisy.step(np.full((50, 4), 410.0)), clean.step(np.full((50, 4), 410.0))
        np.testing.assert_array_equal(a.rewards, b.rewards)
        gaps.append(a.next_states - b.next_states)
    assert 0.003 < np.std(np.concatenate(gaps)[:, 0:3]) < 0.03  # position error scaled by the observation's 1/10 m


def test_a_scalar_task_randomises_each_episode():
    """The Udacity-style loop's ScalarTask draws a new body for each episode."""
    task = ScalarTask(dynamics="rigid_body", seed=0, randomisation=rnd.PRESETS["default"])
    bodies = []
    for _ in range(3):
        task.reset()
        bodies.append(task.envs.sim.body_factors[0].copy())
        task.step(np.full(4, 450.0))
    assert len({tuple(b) for b in bodies}) == 3


@pytest.mark.slow
def test_a_randomised_fused_run_checkpoints_its_draws_and_resumes_exactly(tmp_path):
    """train --randomise on the fused path: a run stopped half-way and resumed ends with the weights of the run
    that never stopped (the rows' bodies, delays and pending actions are in the checkpoint)."""
    config = DDPGConfig(actor_units=(32, 32), critic_units=(32, 32), batch_size=32, warmup=64, buffer_size=5000)
    settings = TrainSettings(
        num_envs=8,
        env_steps=1_600,
        steps_per_round=2,
        updates_per_round=4,
        checkpoint_every=1000.0,
        test_every=0,
        dynamics="rigid_body",
        randomise="default",
        runtime=1.0,
    )
    whole, _ = train(config, settings, out=tmp_path / "whole", progress=False)
    half = TrainSettings(**{**settings.__dict__, "env_steps": 800})
    train(config, half, out=tmp_path / "parts", progress=False)
    resumed, _ = train(out=tmp_path / "parts", resume=True, progress=False, budget=dict(env_steps=1_600))
    for a, b in zip(whole.actor_local.network.weights, resumed.actor_local.network.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_an_action_history_policy_shows_the_actor_its_last_actions():
    seen = []

    def act(states):
        seen.append(states.copy())
        return np.full((len(states), 4), 675.0 if len(seen) == 1 else 225.0)  # 0.5, then -0.5 normalised

    policy = rnd.run_policy(act, {"randomise": "history=2", "dynamics": "udacity"})
    for _ in range(3):
        policy(np.ones((2, 15)))
    assert [s.shape for s in seen] == [(2, 23)] * 3
    np.testing.assert_array_equal(seen[0][:, 15:], 0.0)  # nothing chosen yet
    np.testing.assert_allclose(seen[1][:, 15:], [[0.0] * 4 + [0.5] * 4] * 2)  # the newest last
    np.testing.assert_allclose(seen[2][:, 15:], [[0.5] * 4 + [-0.5] * 4] * 2)
    fresh = rnd.restarted(policy)
    fresh(np.ones((2, 15)))
    np.testing.assert_array_equal(seen[3][:, 15:], 0.0)  # a new flight starts with none
    assert rnd.run_policy(act, {"randomise": "mass=0.9:1.1"}) is act


def test_the_fused_test_flights_show_the_actor_its_history_as_the_evaluation_does():
    """An agent that sees its last actions: the fused path's compiled test flights and the numpy evaluation
    (ActionHistoryPolicy) fly the same episodes; without the history the actor would fly others."""
    from quadcopter.evaluation import evaluate_actor, greedy_policy
    from quadcopter.task_specs import FlightTask, NumpyDraw
    from quadcopter.training import make_agent, make_rollout

    config = DDPGConfig(actor_units=(32, 32), critic_units=(32, 32), batch_size=32, warmup=64, buffer_size=5000)
    settings = TrainSettings(num_envs=4, test_every=0, randomise="history=2,delay=1:1")
    agent = make_agent(config, settings)
    assert agent.state_size == 15 + 8
    rng = np.random.default_rng(0)
    for weight in agent.actor_local.network.weights:  # an actor whose actions vary, and depend on the history
        weight.assign(rng.normal(0.0, 0.3, weight.shape).astype(np.float32))
    starts = FlightTask().test_starts(NumpyDraw(np.random.default_rng(7)), 20)
    fused = make_rollout(agent, settings).fly(*starts)
    numpy = make_rollout(agent, TrainSettings(**{**settings.__dict__, "fused": False})).fly(*starts)
    np.testing.assert_array_equal(fused["length"], numpy["length"])
    np.testing.assert_allclose(fused["episode_return"], numpy["episode_return"], rtol=1e-4)
    blind = evaluate_actor(lambda s: greedy_policy(agent)(np.pad(s, ((0, 0), (0, 8)))), starts=starts)
    assert not np.allclose(blind["episode_return"], numpy["episode_return"], rtol=1e-4)


def test_the_gymnasium_vector_env_randomises_its_episodes():
    from quadcopter.envs import QuadcopterVectorEnv

    env = QuadcopterVectorEnv(num_envs=8, dynamics="rigid_body", randomise="default")
    observations, _ = env.reset(seed=3)
    factors = env._envs.sim.body_factors
    assert observations.shape == (8, 15) and len(np.unique(factors[:, 0])) == 8
    env.step(np.zeros((8, 4), np.float32))
    with pytest.raises(ValueError, match="needs dynamics='rigid_body'"):
        QuadcopterVectorEnv(randomise="default")
    with pytest.raises(ValueError, match="--randomise 'weight=2'"):
        QuadcopterVectorEnv(randomise="weight=2")
