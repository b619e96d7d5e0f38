"""What return can any policy reach on the starts that ``bench_pendulum.py`` scores? A reference for its target.

``bench_pendulum.py`` scores the mean return of the last 10 of 100 training episodes. Pendulum-v1 draws
each start in ``reset`` from its own generator and never in ``step``, so the starts of those 10
episodes are fixed by the seed, whatever the agent does: some seeds get harder starts (hanging down,
which needs a swing-up) than others. This script finds those starts and flies each with a near-optimal
controller: finite-horizon value iteration over 200 steps on a grid of (angle, angular rate) with
bilinear interpolation, then a greedy one-step look-ahead on the grid's values, flown in the real env.
Grid errors make the controller slightly worse than optimal, so its returns are a lower bound on the
best possible (they are reachable).

    python benchmarks/pendulum_optimum.py [--seeds 0 1 2] [--episodes 100]
"""

import argparse
import time

import gymnasium
import numpy as np

from quadcopter.tasks import wrap_angle

# Pendulum-v1's constants (gymnasium/envs/classic_control/pendulum.py): g, m, l, dt, limits.
GRAVITY, MASS, LENGTH, DT = 10.0, 1.0, 1.0, 0.05
MAX_SPEED, MAX_TORQUE, HORIZON = 8.0, 2.0, 200
HANGING = 2.5  # rad: a start further than this from upright needs a swing-up

ANGLES = np.linspace(-np.pi, np.pi, 251)  # rad
RATES = np.linspace(-MAX_SPEED, MAX_SPEED, 161)  # rad/s
TORQUES = np.linspace(-MAX_TORQUE, MAX_TORQUE, 41)  # N m


def dynamics(angle, rate, torque):
    """One Pendulum-v1 step: (next angle, next rate, cost), elementwise on arrays of any shape."""
    cost = wrap_angle(angle) ** 2 + 0.1 * rate**2 + 0.001 * torque**2
    rate = np.clip(
        rate + (3 * GRAVITY / (2 * LENGTH) * np.sin(angle) + 3.0 / (MASS * LENGTH**2) * torque) * DT,
        -MAX_SPEED,
        MAX_SPEED,
    )
    return wrap_angle(angle + rate * DT), rate, cost


def interpolate(values, angle, rate):
    """Bilinear interpolation of a (angles, rates) grid of values at points of any shape."""
    i = (angle + np.pi) / (2 * np.pi) * (len(ANGLES) - 1)
    j = (rate + MAX_SPEED) / (2 * MAX_SPEED) * (len(RATES) - 1)
    i0 = np.clip(np.floor(i).astype(int), 0, len(ANGLES) - 2)
    j0 = np.clip(np.floor(j).astype(int), 0, len(RATES) - 2)
    a, b = i - i0, j - j0
    return (
        (1 - a) * (1 - b) * values[i0, j0]
        + a * (1 - b) * values[i0 + 1, j0]
        + (1 - a) * b * values[i0, j0 + 1]
        + a * b * values[i0 + 1, j0 + 1]
    )


def value_tables():
    """values[t]: the best return of the last t steps from each grid point, t = 0 .. HORIZON."""
    angle, rate, torque = np.meshgrid(ANGLES, RATES, TORQUES, indexing="ij")
    next_angle, next_rate, cost = dynamics(angle, rate, torque)
    tables = [np.zeros((len(ANGLES), len(RATES)))]
    for _ in range(HORIZON):
        tables.append((interpolate(tables[-1], next_angle, next_rate) - cost).max(axis=-1))
    return tables


def torque_values(tables, t, angle, rate):
    """What each of ``TORQUES`` is worth at step ``t`` of an episode from (angle, rate): its reward plus
    the best return of the steps left after it, by ``tables``. Shape (len(TORQUES),)."""
    next_angle, next_rate, cost = dynamics(angle, rate, TORQUES)
    return interpolate(tables[HORIZON - t - 1], next_angle, next_rate) - cost


def fly(env, start, choose, gamma=1.0):
    """One 200-step episode of ``env`` from ``start`` (angle, rate) with ``choose(t, angle, rate) -> torque``.
    Returns the states (angle, rate) the torques were chosen in, the torques, the return and the
    return discounted at ``gamma`` per step."""
    env.reset()
    env.unwrapped.state = np.array(start, dtype=float)
    states, torques, total, discounted = [], [], 0.0, 0.0
    for t in range(HORIZON):
        states.append(tuple(env.unwrapped.state))
        torques.append(float(choose(t, *states[-1])))
        _, reward, _, _, _ = env.step(np.array([torques[-1]], dtype=np.float32))
        total += reward
        discounted += gamma**t * reward
    return states, torques, total, discounted


def controller(tables):
    """The look-ahead on ``tables`` as ``choose(t, angle, rate) -> torque`` for :func:`fly`; angle and
    rate may also be arrays of one shape, for many flights at once, and then so are the torques."""

    def choose(t, angle, rate):
        values = torque_values(tables, t, np.asarray(angle)[..., None], np.asarray(rate)[..., None])
        return TORQUES[np.argmax(values, axis=-1)]

    return choose


def controller_return(env, start, tables):
    """The return of one episode from ``start`` (angle, rate) with the look-ahead on ``tables``."""
    return fly(env, start, controller(tables))[2]


def scored_starts(seed, episodes):
    """The starts (angle, rate) of the last 10 of ``episodes`` episodes, reset as GymTask resets."""
    env = gymnasium.make("Pendulum-v1")
    env.reset(seed=seed)
    starts = [tuple(env.unwrapped.state)]
    for _ in range(episodes - 1):
        env.reset()
        starts.append(tuple(env.unwrapped.state))
    return starts[-10:]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--episodes", type=int, default=100)
    args = parser.parse_args()
    start_time = time.perf_counter()
    tables = value_tables()
    print(f"# value iteration: {time.perf_counter() - start_time:.0f} s; gymnasium {gymnasium.__version__}")
    print("| seed | hanging starts (abs angle > 2.5 rad) | controller's mean return, last 10 episodes | per start |")
    print("|---:|---:|---:|---|")
    env = gymnasium.make("Pendulum-v1")
    for seed in args.seeds:
        starts = scored_starts(seed, args.episodes)
        returns = [controller_return(env, start, tables) for start in starts]
        hanging = sum(abs(angle) > HANGING for angle, _ in starts)
        print(f"| {seed} | {hanging} | {np.mean(returns):.0f} | {', '.join(f'{r:.0f}' for r in returns)} |", flush=True)


if __name__ == "__main__":
    main()
