"""Does a learner's own Udacity loop learn the takeoff? ``takeoff_agent(Task(seed=S), seed=S)`` trained
with ``agent.reset_episode()``, ``agent.act(state)``, ``task.step(action)``,
``agent.step(action, reward, next_state, done)`` for up to 300,000 agent steps; every 20,000 steps
the greedy policy flies the evaluation's 100 takeoffs (10 s, the take-off-and-hold rule).

    python benchmarks/bench_udacity_loop.py [--seeds 1 2 3] [--steps 300000] [--every 20000]

Prints per seed: the first evaluation at >= 90% (agent steps), the final greedy success and long
hold (30 s), and the wall time (the loop and its evaluations).
"""

import argparse
import time

from quadcopter import takeoff_agent
from quadcopter.tasks import LONG_HOLD_RUNTIME
from quadcopter.train_parts import device_name
from quadcopter.training import evaluate_actor, greedy_policy
from task import Task


def learn(seed, steps, every):
    """Run the Udacity loop; returns [(agent steps, greedy success)] and the final long-hold success."""
    task = Task(seed=seed)
    agent = takeoff_agent(task, seed=seed)
    history, done, state = [], True, None
    for step in range(1, steps + 1):
        if done:
            state = agent.reset_episode()
        action = agent.act(state)
        next_state, reward, done = task.step(action)
        agent.step(action, reward, next_state, done)
        state = next_state
        if step % every == 0:
            history.append((step, evaluate_actor(greedy_policy(agent))["success"].mean()))
    long_hold = evaluate_actor(greedy_policy(agent), runtime=LONG_HOLD_RUNTIME)["success"].mean()
    return history, long_hold


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--every", type=int, default=20_000)
    args = parser.parse_args()
    print(f"# {device_name()}, {time.strftime('%Y-%m-%d')}; takeoff_agent, Udacity loop, {args.steps:,} agent steps")
    print("| seed | first >= 90% (agent steps) | final greedy success | final long hold | wall (s) |")
    print("|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        start = time.perf_counter()
        history, long_hold = learn(seed, args.steps, args.every)
        reached = next((f"{step:,}" for step, success in history if success >= 0.9), "never")
        print(
            f"| {seed} | {reached} | {history[-1][1]:.0%} | {long_hold:.0%} | {time.perf_counter() - start:.0f} |",
            flush=True,
        )
        print("  evaluations: " + ", ".join(f"{step // 1000}k {success:.0%}" for step, success in history), flush=True)


if __name__ == "__main__":
    main()
