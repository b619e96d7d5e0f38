"""DDPG speed with 400-300 networks and batch 64, in one run:

(a) updates/s through ``DDPG.learn(experiences)`` (the Udacity path),
(b) updates/s through the fused path (many updates per compiled call, tensor replay buffer),
(c) Udacity-loop steps/s: ``act``, ``task.step``, ``agent.step`` (one update per step on average:
    ``update_every`` updates every ``update_every`` steps),
(d) the numpy fast path's environment steps/s (16 vectorised takeoffs, acting and storing, no learning),
(e) the Udacity loop again with the takeoff's own agent, ``quadcopter.takeoff_agent`` (64-64 networks).

    python benchmarks/bench_agent.py [--seconds 5]

The loops (c) and (e) are timed once their update call is compiled, as in a long run: (e) after
the takeoff agent's warmup (it learns from the 1,001st step on).

For comparison, the Keras-2 original measured on this machine: about 44 updates/s and 44 loop steps/s.
"""

import argparse
import time

import numpy as np
import tensorflow as tf

from agents.agent import DDPG, DDPGConfig
from quadcopter import takeoff_agent
from quadcopter.train_parts import device_name
from quadcopter.vector_task import VectorTakeoffTask
from task import Task


def rate(function, seconds, per_call=1):
    """Work units per second of ``function`` (``per_call`` units a call), after one call to compile; the
    speed benchmarks' timing loop (bench_fused and bench_update_cost import it)."""
    function()  # compile
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        function()
        calls += 1
    return calls * per_call / (time.perf_counter() - start)


def udacity_loop_rate(agent, seconds):
    """Steps/s of the Udacity loop (act, task.step, agent.step) with ``agent``, timed once the agent is
    past its warmup and its update call is compiled, as in a long run."""
    state = agent.reset_episode()

    def udacity_step():
        nonlocal state
        action = agent.act(state)
        next_state, reward, done = agent.task.step(action)
        agent.step(action, reward, next_state, done)
        state = agent.reset_episode() if done else next_state

    for _ in range(max(0, agent.config.warmup - len(agent.memory)) + 2 * agent.config.update_every):
        udacity_step()
    return rate(udacity_step, seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement (default: 5)")
    parser.add_argument("--fused-updates", type=int, default=50, help="updates per fused call (default: 50)")
    args = parser.parse_args()
    # (e) first, in a fresh process as a learner runs it: measured after (a) to (d), whose networks
    # and buffers stay in memory, the same loop ran at about two thirds of this rate.
    takeoff_loop = udacity_loop_rate(takeoff_agent(Task(seed=1), seed=1), args.seconds)

    task = Task(seed=0)
    # The sizes, the paper's critic (the actions join after the first layer) and inverting
    # gradients, pinned: the figures in docs/benchmarks.md were measured with them.
    config = DDPGConfig(
        actor_units=(400, 300),
        critic_units=(400, 300),
        critic_action_layer=1,
        invert_gradients=True,
        batch_size=64,
        warmup=64,
    )
    agent = DDPG(task, config)
    rng = np.random.default_rng(0)

    state = task.reset()
    for _ in range(2000):  # fill the buffer with real transitions
        action = agent.to_task_actions(rng.uniform(-1, 1, 4))
        next_state, reward, done = task.step(action)
        agent.memory.add(state, agent.to_normalised(action), reward, next_state, task.terminated)
        state = task.reset() if done else next_state

    learn = rate(lambda: agent.learn(agent.memory.sample()), args.seconds)

    memory = agent.use_tensor_memory()
    memory.add_batch(
        rng.normal(size=(5000, agent.state_size)),
        rng.uniform(-1, 1, (5000, 4)),
        rng.normal(size=5000),
        rng.normal(size=(5000, agent.state_size)),
        np.zeros(5000),
    )
    fused = rate(lambda: agent.learn_many(args.fused_updates), args.seconds, args.fused_updates)

    loop = udacity_loop_rate(agent, args.seconds)

    envs = VectorTakeoffTask(16, rng)
    noise = agent.make_noise((16, 4))
    vector_state = {"states": envs.reset()}

    def fast_env_step():
        actions = agent.act_normalised(vector_state["states"], noise=noise)
        next_states, rewards, terminated, _ = envs.step(agent.to_task_actions(actions))
        memory.add_batch(vector_state["states"], actions, rewards, next_states, terminated)
        envs.pop_finished()
        vector_state["states"] = envs.states

    env_steps = rate(fast_env_step, args.seconds, 16)

    print(
        f"# {device_name()}, TensorFlow {tf.__version__}, {time.strftime('%Y-%m-%d')}; 400-300 networks, batch 64, XLA"
    )
    print("| measure | rate | x Keras-2 original (44/s) |")
    print("|---|---:|---:|")
    for name, value in [
        ("(a) updates/s, learn(experiences)", learn),
        (f"(b) updates/s, fused path ({args.fused_updates} per call)", fused),
        ("(c) Udacity loop steps/s (act, task.step, agent.step)", loop),
        ("(d) fast path env steps/s (16 envs, act + store)", env_steps),
        ("(e) Udacity loop steps/s, takeoff_agent (64-64)", takeoff_loop),
    ]:
        ratio = f"{value / 44:.1f}" if name[1] in "abce" else "-"
        print(f"| {name} | {value:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
