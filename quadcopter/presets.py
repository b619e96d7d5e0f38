"""The takeoff's tuned agent: the ``DDPGConfig`` settings measured best on the takeoff, kept here with the
quadcopter code so that ``agents/`` stays a general DDPG whose defaults work across tasks.

    from quadcopter import takeoff_agent
    from task import Task

    agent = takeoff_agent(Task(), seed=1)   # a DDPG with the Udacity methods: reset_episode, act, step, ...

``train`` (``python -m quadcopter train``) and the notebook use the same settings
(:func:`takeoff_config`). One of them depends on the simulator: the exploration noise
(:data:`EXPLORATION_NOISE`). docs/decisions.md says how each value was measured.
"""

from typing import Any

from agents.agent import DDPG, DDPGConfig

from .dynamics import check_dynamics

EXPLORATION_NOISE = {"udacity": 0.01, "rigid_body": 0.05}
"""Gaussian exploration noise per simulator dynamics, in normalised action units (0.01 is about 4.5 rev/s
per rotor, 0.05 about 22 rev/s).

The Udacity simulator adds 0.5 alpha^2 dt^2 to each angle every step: positive whatever the sign of
the angular acceleration alpha. Noise on the rotors makes alpha jitter, and that term turns the
jitter into a steady drift of roll and pitch, growing with the noise's variance. An actor trained
against the drift learns to lean against it; flown without noise it has nothing to lean against and
settles off the target: 0.24-0.48 m away after 60 s with noise 0.05, 0.09-0.17 m with 0.02 and
0.01-0.07 m with 0.01 (the final actors of seeds 0-9; all of them held by the rule with each noise).
The rigid body has no such term and keeps 0.05: with 0.02, two of its ten final actors lost the 30 s
hold to a slow yaw drift that the narrower exploration had not shown them (docs/decisions.md)."""

TAKEOFF_CONFIG = DDPGConfig(
    actor_units=(64, 64),
    critic_units=(64, 64),
    critic_action_layer=1,
    actor_lr=3e-5,
    critic_lr=1e-3,
    gamma=0.95,
    tau=1e-3,
    batch_size=64,
    noise="gaussian",
    noise_sigma=EXPLORATION_NOISE["udacity"],
    noise_before_tanh=False,
    invert_gradients=True,
    proximal_weight=0.0,
    target_noise=0.03,
    critic_layer_norm=True,
    update_every=16,
)
"""The takeoff's settings, where they differ from the general ``DDPGConfig`` defaults: small networks
(ten times the updates per second on a CPU), the paper's critic (the actions join after its first
hidden layer; the takeoff was tuned with it before the general default moved the actions to the
input), inverting gradients (tuned with them before the general default turned them off), no
proximal term (tuned without it), a short horizon (gamma 0.95), slow targets, a slow actor (actor
learning rate 3e-5: with 1e-4 the final actor held on one seed of four, with 3e-5 on two of five;
``train`` takes it to a tenth for the last 40% of its run, ``TrainSettings.late_actor_lr_factor``)
and TD3's target-policy smoothing with noise 0.03, about 14 rev/s (on seeds 0, 1, 3 and 4 the final
actor then held on three, against one without), and layer normalisation in the critic, which made
the difference: with it the final actor held on all ten seeds 0-9 in both dynamics, against four of
ten without (docs/decisions.md). In the Udacity loop, ``step`` makes its updates 16 at a time (one
per step on average, as with the general 8): one compiled call costs half a millisecond to a
millisecond besides its updates, so the loop runs about a tenth faster, and it learned as before
(docs/benchmarks.md, "The learner's own loop"). ``train`` sets its own updates per round. The
exploration noise here, 0.01, is the Udacity simulator's (``Task()``'s default);
:func:`takeoff_config` gives each simulator its own (:data:`EXPLORATION_NOISE`). It is added after
the actor's tanh (``noise_before_tanh=False``), as when the preset was tuned."""


def takeoff_config(seed: int = 0, dynamics: str = "udacity") -> DDPGConfig:
    """:data:`TAKEOFF_CONFIG` with ``seed`` and the exploration noise of ``dynamics`` ("udacity" or
    "rigid_body", :data:`EXPLORATION_NOISE`)."""
    return TAKEOFF_CONFIG.replace(seed=seed, noise_sigma=EXPLORATION_NOISE[check_dynamics(dynamics)])


def takeoff_agent(task: Any, seed: int = 0) -> DDPG:
    """A :class:`~agents.agent.DDPG` for ``task`` (a ``TakeoffTask``, e.g. ``task.Task()``) with the
    takeoff's tuned settings for the task's simulator and ``seed``."""
    # A ScalarTask names its dynamics; a TakeoffTask's simulator does; a task without ours is Udacity's.
    dynamics = str(getattr(task, "dynamics", None) or getattr(getattr(task, "sim", None), "dynamics", "udacity"))
    return DDPG(task, takeoff_config(seed, dynamics))
