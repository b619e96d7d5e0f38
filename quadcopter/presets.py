"""The takeoff's tuned agent: the ``DDPGConfig`` settings measured best on the takeoff, kept here with the
quadcopter code so that ``agents/`` stays a general DDPG whose defaults work across tasks.

    from quadcopter import takeoff_agent
    from task import Task

    agent = takeoff_agent(Task(), seed=1)   # a DDPG with the Udacity methods: reset_episode, act, step, ...

``train`` (``python -m quadcopter train``) and the notebook use the same settings
(:func:`takeoff_config`). docs/learning.md says how each value was measured.
"""

from typing import Any

from agents.agent import DDPG, DDPGConfig

TAKEOFF_CONFIG = DDPGConfig(
    actor_units=(64, 64),
    critic_units=(64, 64),
    actor_lr=3e-5,
    critic_lr=1e-3,
    gamma=0.95,
    tau=1e-3,
    batch_size=64,
    noise="gaussian",
    noise_sigma=0.05,
    invert_gradients=True,
    target_noise=0.03,
    critic_layer_norm=True,
    update_every=16,
)
"""The takeoff's settings, where they differ from the general ``DDPGConfig`` defaults: small networks
(ten times the updates per second on a CPU), a short horizon (gamma 0.95), slow targets, a slow
actor (actor learning rate 3e-5: with 1e-4 the final actor held on one seed of four, with 3e-5 on
two of five) and TD3's target-policy smoothing with noise 0.03, about 14 rev/s (on seeds 0, 1, 3
and 4 the final actor then held on three, against one without), and layer normalisation in the
critic, which made the difference: with it the final actor held on all ten seeds 0-9 in both
dynamics, against four of ten without (docs/learning.md). In the Udacity loop, ``step`` makes its
updates 16 at a time (one per step on average, as with the general 8): one compiled call costs
half a millisecond to a millisecond besides its updates, so the loop runs about a tenth faster, and
it learned as before (docs/benchmarks.md, "The learner's own loop"). ``train`` sets its own updates
per round."""


def takeoff_config(seed: int = 0) -> DDPGConfig:
    """:data:`TAKEOFF_CONFIG` with ``seed``."""
    return TAKEOFF_CONFIG.replace(seed=seed)


def takeoff_agent(task: Any, seed: int = 0) -> DDPG:
    """A :class:`~agents.agent.DDPG` for ``task`` (a ``TakeoffTask``, e.g. ``task.Task()``) with the
    takeoff's tuned settings and ``seed``."""
    return DDPG(task, takeoff_config(seed))
