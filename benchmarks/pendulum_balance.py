"""Does DDPG's final actor balance the pendulum at the top? Its resting points, and its critic there.

Trains ``DDPG`` as ``bench_pendulum.py`` does (the default ``DDPGConfig``, 100 episodes), then flies the final
actor without noise, and the near-optimal controller of ``pendulum_optimum.py``, from the 60 starts of
``pendulum_screen.py`` (never the starts that ``bench_pendulum.py`` scores). Per seed it prints:

* where the actor's flights are after 200 steps (abs angle from upright, rad, grouped to 0.01 rad with
  the number of starts at each) and where the controller's are;
* how much more than the controller's the actor's last 100 steps cost, summed over the 60 starts, and
  per start, the most and how many starts lose more than 1 point there;
* the actor's torque at the upright state at rest, mu(0, 0) in N m, and its slope in the angle there
  (an angle theta at rest is held by a torque of -2.5 sin(theta) N m, so a policy needs a slope below
  -2.5 N m per rad to pull back);
* at the end of the first flight whose pendulum rests furthest from upright: the critic's Q(s, a) over
  21 actions beside the discounted return actually earned with each of them taken for one step and the
  actor after that (``gamma`` as the agent's, 600 steps), so one sees whether the critic can tell the
  actions apart there.

    python benchmarks/pendulum_balance.py [--seeds 3 7] [--set NAME=VALUE ...]

docs/archive/experiment-log.md ("The final actors' balance, and a value transform for the critic") quotes its output
for seeds 3 and 7.
"""

import argparse
import time
from collections import Counter

import numpy as np
from pendulum_common import add_settings_argument, run_header, settings_changes, train
from pendulum_optimum import HORIZON, MAX_TORQUE, controller, value_tables
from pendulum_probe import observation
from pendulum_screen import actor_choice, fly_costs, screen_starts

ACTIONS = np.linspace(-1.0, 1.0, 21)  # normalised actions at which the critic is read


def resting_points(angles):
    """'0.24 rad x 24, 0.04 rad x 36': the final abs angles grouped to 0.01 rad, most frequent first."""
    counts = Counter(np.round(np.abs(angles), 2))
    return ", ".join(f"{angle:.2f} rad x {n}" for angle, n in counts.most_common())


def earned_returns(choose, angle, rate, first_actions, gamma, steps=600):
    """The discounted return from (angle, rate) with each of ``first_actions`` (normalised) for one step and
    ``choose`` (the actor, without noise) after that; shape (len(first_actions),)."""
    starts = np.tile([angle, rate], (len(first_actions), 1))
    costs, _, _ = fly_costs(
        lambda t, angles, rates: first_actions if t == 0 else choose(t, angles, rates), starts, steps
    )
    return -costs @ gamma ** np.arange(steps)


def report(agent, starts, best_costs, best_angles):
    """Print the balance of ``agent``'s final actor against the controller's flights (costs, final angles)."""
    choose = actor_choice(agent)
    costs, angles, rates = fly_costs(choose, starts)
    late_gap = costs[:, HORIZON // 2 :].sum(axis=1) - best_costs[:, HORIZON // 2 :].sum(axis=1)
    print(f"after 200 steps, the actor: {resting_points(angles)}")
    print(f"after 200 steps, the controller: {resting_points(best_angles)}")
    print(
        f"the last 100 steps cost the actor {late_gap.sum():.1f} more than the controller over the 60 starts "
        f"(the most on one start {late_gap.max():.2f}; {int((late_gap > 1).sum())} starts above 1)"
    )
    upright = choose(0, np.zeros(1), np.zeros(1))[0] * MAX_TORQUE
    step = 1e-3
    slope = (choose(0, np.array([step]), np.zeros(1))[0] - choose(0, np.array([-step]), np.zeros(1))[0]) / (2 * step)
    print(f"mu(0, 0) = {upright:+.2f} N m; its slope in the angle there {slope * MAX_TORQUE:+.1f} N m per rad")

    worst = int(np.argmax(np.abs(angles)))
    state = observation(angles[worst], rates[worst])
    actions = ACTIONS.astype(np.float32)[:, None]
    q = agent.critic_local.model([np.repeat(state, len(actions), axis=0), actions], training=False).numpy()[:, 0]
    earned = earned_returns(choose, angles[worst], rates[worst], ACTIONS, agent.config.gamma)
    print(f"at the end of start {worst}'s flight (angle {angles[worst]:+.3f} rad, rate {rates[worst]:+.3f} rad/s):")
    print("| normalised action | " + " | ".join(f"{a:+.1f}" for a in ACTIONS) + " |")
    print("|---|" + "---:|" * len(ACTIONS))
    print("| critic's Q(s, a) | " + " | ".join(f"{x:.1f}" for x in q) + " |")
    print("| earned, discounted | " + " | ".join(f"{x:.1f}" for x in earned) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 7])
    parser.add_argument("--episodes", type=int, default=100)
    add_settings_argument(parser)
    args = parser.parse_args()
    changes = settings_changes(args.set)
    start_time = time.perf_counter()
    starts = screen_starts()
    best = controller(value_tables())
    best_costs, best_angles, _ = fly_costs(lambda t, angle, rate: best(t, angle, rate) / MAX_TORQUE, starts)
    print(f"{run_header(args.set, args.episodes)}; controller flown in {time.perf_counter() - start_time:.0f} s")
    for seed in args.seeds:
        start_time = time.perf_counter()
        agent, returns = train(seed, args.episodes, changes)
        print(f"\n## seed {seed}: mean return of the last 10 episodes {np.mean(returns[-10:]):.0f}\n")
        report(agent, starts, best_costs, best_angles)
        print(f"({time.perf_counter() - start_time:.0f} s)")


if __name__ == "__main__":
    main()
