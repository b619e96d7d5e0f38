"""Simulator speed: steps per second of each simulator, next to the plain original-style one, in one run.

    python benchmarks/bench_sim.py [--seconds 2]

Every simulator flies the same kind of flight: a hover with small random rotor differences from
z = 100 m, reset every 256 steps (about one 5 s episode). Aggregate steps/s = quadcopters x steps
/ wall time.
"""

import argparse
import os
import platform
import time

import numpy as np

from quadcopter import PhysicsSim, VectorPhysicsSim, hover_rotor_speed
from quadcopter.dynamics import DYNAMICS
from quadcopter.machine import cpu_name
from quadcopter.reference import ReferencePhysicsSim


def steps_per_second(make_sim, num_envs, seconds, rng):
    """Steps/s of ``make_sim()`` flown for about ``seconds`` (aggregate over ``num_envs`` quadcopters)."""
    sim = make_sim()
    shape = (num_envs, 4) if num_envs else (4,)
    speeds = hover_rotor_speed() + rng.uniform(-0.5, 0.5, (64,) + shape)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for k in range(64):
            sim.next_timestep(speeds[k])
        steps += 64
        if steps % 256 == 0:
            sim.reset()
    elapsed = time.perf_counter() - start
    return steps * max(num_envs, 1) / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement (default: 2)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    start = [0, 0, 100, 0, 0, 0]

    rows = [("plain numpy, original style (baseline)", lambda: ReferencePhysicsSim(start, runtime=1e9), 0)]
    for dynamics in DYNAMICS:
        rows.append((f"PhysicsSim {dynamics}", lambda d=dynamics: PhysicsSim(start, runtime=1e9, dynamics=d), 0))
    for dynamics in DYNAMICS:
        for n in (1, 1024, 65536):
            rows.append(
                (
                    f"VectorPhysicsSim {dynamics} N={n:,}",
                    lambda n=n, d=dynamics: VectorPhysicsSim(np.tile(start, (n, 1)), runtime=1e9, dynamics=d),
                    n,
                )
            )

    print(
        f"# CPU ({cpu_name()}, {os.cpu_count()} cores; numpy only), Python {platform.python_version()}, "
        f"numpy {np.__version__}, {time.strftime('%Y-%m-%d')}"
    )
    print("| simulator | steps/s | x plain |")
    print("|---|---:|---:|")
    baseline = None
    for name, make_sim, n in rows:
        rate = steps_per_second(make_sim, n, args.seconds, rng)
        baseline = baseline or rate
        print(f"| {name} | {rate:,.0f} | {rate / baseline:,.1f} |", flush=True)


if __name__ == "__main__":
    main()
