"""How much could training K seeds in one compiled program save over K runs? An estimate for issue 44's
population training, measured before building it.

A default run's time is nearly all its 256,000 DDPG updates (docs/benchmarks.md, "Where a default train
run's time goes"). This times the update alone, written with stacked weights: K agents' actors and critics
as (K, in, out) tensors, their batches (K, B, ...) and every matrix product a batched one, the takeoff
preset's update (64-64 networks, layer-normalised critic with the action at its second layer, target-policy
smoothing, inverting gradients, Adam, soft target updates, batch 64), 64 updates per compiled call as the
fused round makes them. It prints the time per update of all K agents for each K, and K times the time of
K = 1: the population's best case, the rollouts (a few percent of a run) left out.

    python benchmarks/bench_population_estimate.py [--populations 1 2 5 10] [--calls 30] [--matmul-dtype bfloat16]
"""

import argparse
import time

import numpy as np
import tensorflow as tf

from quadcopter.machine import cpu_name
from quadcopter.train_parts import device_name

STATE, ACTION, HIDDEN, BATCH, UPDATES = 15, 4, 64, 64, 64
GAMMA, TAU, TARGET_NOISE, NOISE_CLIP = 0.95, 0.001, 0.03, 0.5


def dense(k, n_in, n_out, rng, scale=None):
    """Stacked weights of K dense layers: kernel (K, in, out), bias (K, 1, out)."""
    scale = scale or np.sqrt(2.0 / n_in)
    kernel = tf.Variable(rng.normal(0, scale, (k, n_in, n_out)).astype(np.float32))
    return [kernel, tf.Variable(np.zeros((k, 1, n_out), np.float32))]


MATMUL_DTYPE = tf.float32
"""The type the matrix products compute in (``--matmul-dtype``); the weights and the rest stay float32."""


def matmul(x, w):
    """x @ w in :data:`MATMUL_DTYPE`, the result in float32 (bfloat16: the CPU's AMX and AVX-512 BF16 units)."""
    if MATMUL_DTYPE == tf.float32:
        return tf.matmul(x, w)
    return tf.cast(tf.matmul(tf.cast(x, MATMUL_DTYPE), tf.cast(w, MATMUL_DTYPE)), tf.float32)


def layer_norm(x):
    mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + 1e-3)


class Population:
    """K actors, K critics and their targets, as stacked variables; the update of all K at once."""

    def __init__(self, k, seed=0):
        rng = np.random.default_rng(seed)
        self.k = k
        self.actor = dense(k, STATE, HIDDEN, rng) + dense(k, HIDDEN, HIDDEN, rng) + dense(k, HIDDEN, ACTION, rng, 3e-3)
        self.critic = (
            dense(k, STATE, HIDDEN, rng) + dense(k, HIDDEN + ACTION, HIDDEN, rng) + dense(k, HIDDEN, 1, rng, 3e-3)
        )
        self.actor_target = [tf.Variable(v) for v in self.actor]
        self.critic_target = [tf.Variable(v) for v in self.critic]
        self.actor_optimizer = tf.keras.optimizers.Adam(3e-5)
        self.critic_optimizer = tf.keras.optimizers.Adam(1e-3)
        self.generator = tf.random.Generator.from_seed(seed)
        size = 100_000
        self.buffer = [
            tf.constant(rng.normal(size=(k, size, width)).astype(np.float32)) for width in (STATE, ACTION, 1, STATE, 1)
        ]

    @staticmethod
    def act(weights, states):
        w1, b1, w2, b2, w3, b3 = weights
        x = tf.nn.relu(matmul(states, w1) + b1)
        x = tf.nn.relu(matmul(x, w2) + b2)
        return tf.tanh(matmul(x, w3) + b3)

    @staticmethod
    def value(weights, states, actions):
        w1, b1, w2, b2, w3, b3 = weights
        x = tf.nn.relu(layer_norm(matmul(states, w1) + b1))
        x = tf.nn.relu(layer_norm(matmul(tf.concat([x, actions], -1), w2) + b2))
        return matmul(x, w3) + b3

    def update(self, batch):
        states, actions, rewards, next_states, terminated = batch
        noise = tf.clip_by_value(self.generator.normal(actions.shape) * TARGET_NOISE, -NOISE_CLIP, NOISE_CLIP)
        next_actions = tf.clip_by_value(self.act(self.actor_target, next_states) + noise, -1.0, 1.0)
        q_targets = rewards + GAMMA * (1.0 - terminated) * self.value(self.critic_target, next_states, next_actions)
        with tf.GradientTape() as tape:
            # The mean over each agent's batch, summed over the agents: each agent's gradient is its own.
            critic_loss = tf.reduce_sum(tf.reduce_mean((q_targets - self.value(self.critic, states, actions)) ** 2, 1))
        self.critic_optimizer.apply_gradients(zip(tape.gradient(critic_loss, self.critic), self.critic))
        predicted = self.act(self.actor, states)
        with tf.GradientTape() as tape:
            tape.watch(predicted)
            q = self.value(self.critic, states, predicted)
        action_gradients = tape.gradient(q, predicted)
        action_gradients *= tf.where(action_gradients > 0, 1.0 - predicted, predicted + 1.0) * 0.5  # inverting
        with tf.GradientTape() as tape:
            actions_now = self.act(self.actor, states)
            actor_loss = tf.reduce_sum(tf.reduce_mean(-action_gradients * actions_now, axis=[1, 2]))
        self.actor_optimizer.apply_gradients(zip(tape.gradient(actor_loss, self.actor), self.actor))
        for target, local in zip(self.actor_target + self.critic_target, self.actor + self.critic):
            target.assign(TAU * local + (1.0 - TAU) * target)

    @tf.function(jit_compile=True)
    def many(self):
        for _ in tf.range(UPDATES):
            rows = self.generator.uniform((self.k, BATCH), 0, self.buffer[0].shape[1], dtype=tf.int32)
            self.update([tf.gather(column, rows, axis=1, batch_dims=1) for column in self.buffer])


def time_population(k, calls):
    population = Population(k)
    population.many()  # compile
    started = time.perf_counter()
    for _ in range(calls):
        population.many()
    return (time.perf_counter() - started) / (calls * UPDATES)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--populations", type=int, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--calls", type=int, default=30, help="compiled calls of 64 updates timed per population")
    parser.add_argument("--matmul-dtype", choices=["float32", "bfloat16"], default="float32")
    args = parser.parse_args()
    global MATMUL_DTYPE
    MATMUL_DTYPE = tf.as_dtype(args.matmul_dtype)
    print(
        f"# {cpu_name()}; {device_name()}; {time.strftime('%Y-%m-%d')}; TensorFlow {tf.__version__}; "
        f"products in {args.matmul_dtype}"
    )
    print("| K agents | us per update of all K | us per agent-update | K x (K = 1) | saving |")
    print("|---:|---:|---:|---:|---:|")
    single = None
    for k in args.populations:
        seconds = time_population(k, args.calls)
        single = single or (seconds if k == 1 else None)
        alone = f"{k * single * 1e6:.0f}" if single else "-"
        saving = f"{k * single / seconds:.2f}x" if single else "-"
        print(f"| {k} | {seconds * 1e6:.0f} | {seconds * 1e6 / k:.0f} | {alone} | {saving} |")


if __name__ == "__main__":
    main()
