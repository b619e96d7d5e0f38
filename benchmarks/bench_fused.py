"""The fused training path against the numpy path, in one run:

(1) the simulator: TensorFlow (``sim_step`` with TENSOR_OPS, 64 steps per compiled call) against
    numpy ``VectorPhysicsSim``, simulator steps/s at 65,536 rows;
(2) the rollout alone (actor, noise, simulator with action repeat, task, replay-buffer writes, no
    updates): agent steps/s at 1,024 envs, fused (64 steps per call) against the numpy path
    (``VectorTakeoffTask``, one compiled actor call and one buffer write per step);
(3) updates/s with the takeoff networks (``quadcopter.presets.TAKEOFF_CONFIG``): the fused round (64 updates
    per call, after 8 steps of 16 envs) against the numpy path's ``learn_many`` (64 per call) and
    ``learn(experiences)`` (one per call).

    python benchmarks/bench_fused.py [--seconds 3]

Compilation is left out (every function is called once before it is timed).
"""

import argparse
import time

import numpy as np
import tensorflow as tf
from bench_agent import rate  # the speed benchmarks' timing loop (this script's folder is on sys.path)

from quadcopter import VectorPhysicsSim, hover_rotor_speed
from quadcopter.presets import takeoff_config
from quadcopter.tensor_task import numpy_starts, sim_step
from quadcopter.train_parts import device_name
from quadcopter.training import TrainSettings, make_agent, make_rollout


def simulators(seconds, rows=65_536, steps_per_call=64):
    rng = np.random.default_rng(0)
    pose = np.tile([0.0, 0.0, 100.0, 0.0, 0.0, 0.0], (rows, 1))
    speeds = hover_rotor_speed() + rng.uniform(-0.5, 0.5, (rows, 4))
    vector = VectorPhysicsSim(pose, runtime=1e9)
    numpy_rate = rate(lambda: vector.next_timestep(speeds), seconds, rows)

    @tf.function(jit_compile=True)
    def fly(state, rotor_speeds):
        for _ in tf.range(steps_per_call):
            state, _ = sim_step(state, rotor_speeds, "udacity")
        return state

    start = tf.constant(numpy_starts(pose, np.zeros((rows, 3))))
    tensor_speeds = tf.constant(speeds)
    tensor_rate = rate(lambda: fly(start, tensor_speeds).numpy(), seconds, rows * steps_per_call)
    return numpy_rate, tensor_rate


def rollouts(seconds, num_envs=1_024, steps_per_call=64):
    config = takeoff_config().replace(buffer_size=200_000)
    fused_agent = make_agent(config, TrainSettings())
    fused = make_rollout(fused_agent, TrainSettings(num_envs=num_envs))
    fused_rate = rate(lambda: fused.round(steps_per_call, 0), seconds, num_envs * steps_per_call)
    numpy_agent = make_agent(config, TrainSettings())
    numpy_rollout = make_rollout(numpy_agent, TrainSettings(num_envs=num_envs, fused=False))
    numpy_rate = rate(lambda: numpy_rollout.round(1, 0), seconds, num_envs)
    return numpy_rate, fused_rate


def updates(seconds, updates_per_call=64):
    config = takeoff_config()
    agent = make_agent(config, TrainSettings())
    fused = make_rollout(agent, TrainSettings())
    for _ in range(10):  # past the warmup: real transitions in the buffer
        fused.round(8, 0)
    fused_rate = rate(lambda: fused.round(8, updates_per_call), seconds, updates_per_call)
    rng = np.random.default_rng(0)
    fill = 5_000
    numpy_agent = make_agent(config, TrainSettings())
    width = numpy_agent.state_size
    numpy_agent.use_tensor_memory().add_batch(
        rng.normal(size=(fill, width)),
        rng.uniform(-1, 1, (fill, 4)),
        rng.normal(size=fill),
        rng.normal(size=(fill, width)),
        np.zeros(fill),
    )
    many_rate = rate(lambda: numpy_agent.learn_many(updates_per_call), seconds, updates_per_call)
    batch = (
        rng.normal(size=(64, width)),
        rng.uniform(-1, 1, (64, 4)),
        rng.normal(size=64),
        rng.normal(size=(64, width)),
        np.zeros(64),
    )
    one_rate = rate(lambda: numpy_agent.learn(batch), seconds, 1)
    return fused_rate, many_rate, one_rate


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement (default: 3)")
    args = parser.parse_args()
    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices())
    print(
        f"# {device_name()}, TensorFlow {tf.__version__} on {devices}, "
        f"{time.strftime('%Y-%m-%d')}; takeoff networks {takeoff_config().actor_units}, "
        f"batch {takeoff_config().batch_size}"
    )
    print("| measure | numpy path | fused path | fused / numpy |")
    print("|---|---:|---:|---:|")
    numpy_sim, tensor_sim = simulators(args.seconds)
    print(
        f"| simulator steps/s, 65,536 rows | {numpy_sim:,.0f} | {tensor_sim:,.0f} | {tensor_sim / numpy_sim:.1f}x |",
        flush=True,
    )
    numpy_rollout, fused_rollout = rollouts(args.seconds)
    print(
        f"| rollout agent steps/s, 1,024 envs (no updates) | {numpy_rollout:,.0f} | {fused_rollout:,.0f} | "
        f"{fused_rollout / numpy_rollout:.1f}x |",
        flush=True,
    )
    fused_updates, many_updates, one_updates = updates(args.seconds)
    print(
        f"| updates/s, 64 per call (fused: with 8 steps of 16 envs) | {many_updates:,.0f} | {fused_updates:,.0f} | "
        f"{fused_updates / many_updates:.1f}x |"
    )
    print(f"| updates/s, learn(experiences), one per call | {one_updates:,.0f} | - | - |")


if __name__ == "__main__":
    main()
