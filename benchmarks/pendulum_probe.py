"""Where does DDPG lose on Pendulum? Its actor and critic probed beside the near-optimal controller.

Trains ``DDPG`` as ``bench_pendulum.py`` does (the default ``DDPGConfig``, 100 episodes), then flies the
final actor without noise from each hanging start (abs angle > 2.5 rad) among the 10 episodes that
``bench_pendulum.py`` scores, and the controller of ``pendulum_optimum.py`` from the same start. Prints
per start the two returns (and discounted at gamma, as the critic counts them), the critic's Q(s, mu(s))
at the start, the first torques of both flights, and for the first steps of the actor's flight:

* the actor's torque, and the controller's at the same state (N m);
* the critic's dQ/da there (per normalised action unit);
* how much more the critic expects from full torque in the direction of its dQ/da than from the
  actor's torque, Q(s, +-2 N m) - Q(s, mu(s));
* how much more the controller's value tables give for that full torque than for the actor's torque
  (undiscounted returns over the steps left, so the scales differ a little from the critic's).

    python benchmarks/pendulum_probe.py [--seed 0] [--steps 30] [--set NAME=VALUE ...]

docs/archive/experiment-log.md reads this output with the defaults of the time: "Where exactly the swing-up loses"
for seeds 0 and 1 with ``--set critic_action_layer=1 --set invert_gradients=true --set gamma=0.99``,
"The critic's action input" for seed 0 with ``--set invert_gradients=true --set gamma=0.99``, and
"Inverting gradients off and gamma 0.995" for seed 0 and "Thirteen more" for seed 1 (``--steps 40``) with
today's defaults.
"""

import argparse
import time

import gymnasium
import numpy as np
from pendulum_common import add_settings_argument, settings_changes, train
from pendulum_optimum import (
    HANGING,
    MAX_TORQUE,
    TORQUES,
    controller,
    fly,
    scored_starts,
    torque_values,
    value_tables,
)

from quadcopter.tasks import wrap_angle


def observation(angle, rate):
    """Pendulum-v1's observation (cos, sin, rate), float32 (1, 3)."""
    return np.array([[np.cos(angle), np.sin(angle), rate]], np.float32)


def normalised(agent, torque):
    """A torque in N m as the agent's normalised action, float32 (1, 1)."""
    return agent.to_normalised(np.array([torque]))[None]


def critic_q(agent, state, torque):
    """The critic's Q(s, a) for one state (1, 3) and a torque in N m."""
    return float(agent.critic_local.model([state, normalised(agent, torque)]).numpy()[0, 0])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--steps", type=int, default=30, help="steps of each flight shown one by one")
    add_settings_argument(parser)
    args = parser.parse_args()
    start_time = time.perf_counter()
    agent, returns = train(args.seed, args.episodes, settings_changes(args.set))
    tables = value_tables()
    gamma = agent.config.gamma
    print(
        f"# seed {args.seed}: mean return of the last 10 episodes {np.mean(returns[-10:]):.0f}; "
        f"trained and tables made in {time.perf_counter() - start_time:.0f} s"
    )

    def actor(t, angle, rate):
        return agent.act_greedy(observation(angle, rate)[0])[0]

    best = controller(tables)

    env = gymnasium.make("Pendulum-v1")
    for start in scored_starts(args.seed, args.episodes):
        if abs(wrap_angle(start[0])) <= HANGING:
            continue
        states, torques, total, discounted = fly(env, start, actor, gamma)
        _, best_torques, best_total, best_discounted = fly(env, start, best, gamma)
        print(f"\n## start: angle {start[0]:+.2f} rad, rate {start[1]:+.2f} rad/s\n")
        print(
            f"actor: return {total:.0f} (discounted {discounted:.0f}), the critic's Q(s, mu(s)) at the start "
            f"{critic_q(agent, observation(*start), torques[0]):.0f}; controller: return {best_total:.0f} "
            f"(discounted {best_discounted:.0f})"
        )
        print("actor's torques (N m):      ", " ".join(f"{x:+.1f}" for x in torques[: args.steps]))
        print("controller's torques (N m): ", " ".join(f"{x:+.1f}" for x in best_torques[: args.steps]))
        print(
            "\n| step | angle (rad) | rate (rad/s) | actor (N m) | controller here (N m) | dQ/da "
            "| critic: full torque better by | tables: full torque better by |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for t, ((angle, rate), torque) in enumerate(zip(states[: args.steps], torques)):
            state = observation(angle, rate)
            slope = float(agent.critic_local.get_action_gradients(state, normalised(agent, torque)).numpy()[0, 0])
            full = MAX_TORQUE if slope >= 0 else -MAX_TORQUE
            values = torque_values(tables, t, angle, rate)
            table_gain = values[np.argmin(np.abs(TORQUES - full))] - values[np.argmin(np.abs(TORQUES - torque))]
            critic_gain = critic_q(agent, state, full) - critic_q(agent, state, torque)
            best_here = best(t, angle, rate)
            print(
                f"| {t + 1} | {wrap_angle(angle):+.2f} | {rate:+.2f} | {torque:+.2f} | {best_here:+.1f} "
                f"| {slope:+.2f} | {critic_gain:+.2f} | {table_gain:+.2f} |"
            )


if __name__ == "__main__":
    main()
