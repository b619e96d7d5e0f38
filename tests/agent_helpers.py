"""Small shared pieces of the agent tests (imported by them; pytest puts tests/ on the path)."""

import numpy as np

from agents.agent import DDPG, DDPGConfig
from task import Task

STATE_SIZE, ACTION_SIZE = Task.state_size, Task.action_size  # the takeoff's: 15 and 4


def flat(variables):
    return np.concatenate([np.ravel(v.numpy() if hasattr(v, "numpy") else v) for v in variables])


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def small_agent(seed=0, **changes):
    # Plain action gradients (no inverting gradients, no proximal term), so that learn can be compared
    # with autograd through the critic.
    config = DDPGConfig(
        actor_units=(32, 24),
        critic_units=(32, 24),
        seed=seed,
        batch_size=16,
        warmup=16,
        buffer_size=1000,
        final_init=0.3,
        invert_gradients=False,
        proximal_weight=0.0,
    ).replace(**changes)
    return DDPG(Task(seed=seed), config)


def random_batch(rng, n=16):
    return (
        rng.normal(size=(n, STATE_SIZE)),
        rng.uniform(-1, 1, (n, ACTION_SIZE)),
        rng.normal(size=n),
        rng.normal(size=(n, STATE_SIZE)),
        (rng.random(n) < 0.2).astype(float),
    )
