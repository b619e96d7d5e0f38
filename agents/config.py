"""Every hyperparameter of DDPG, declared once: :class:`DDPGConfig` (numpy-free, TensorFlow-free).

Each field is declared with :func:`agents.checks.setting` (its default, range and one line of what it
does); the validation, the command line's ``--set NAME=VALUE`` and the README's table are made from
those declarations. Why each default is what it is: docs/decisions.md.
"""

import dataclasses
import json
from typing import Any

from .checks import setting, validate_settings
from .ounoise import NOISES

MAX_UNITS = 4_096
"""The widest hidden layer a network may have (a 4,096 x 4,096 layer and its Adam moments are 200 MB)."""
MAX_LAYERS = 8
"""The most hidden layers a network may have."""
MAX_BUFFER_SIZE = 10_000_000
"""The largest replay buffer (the quadcopter's: 1.4 GB as tensors); the machine's memory may allow less
(:meth:`agents.agent.DDPG.memory_needed`)."""
MAX_BATCH_SIZE = 65_536
"""The largest batch of one update."""

_UNITS = dict(low=1, high=MAX_UNITS, length=(1, MAX_LAYERS))
_UNITS_ACCEPTED = f"1 to {MAX_LAYERS} layer widths, each an integer in [1, {MAX_UNITS:,}]"


def _largest_batch(config: "DDPGConfig") -> tuple[int, str]:
    largest = min(config.buffer_size, MAX_BATCH_SIZE) if isinstance(config.buffer_size, int) else MAX_BATCH_SIZE
    return largest, f"min(buffer_size={config.buffer_size}, {MAX_BATCH_SIZE:,})"


def _critic_layers(config: "DDPGConfig") -> tuple[int, str]:
    layers = len(config.critic_units) if isinstance(config.critic_units, (list, tuple)) else 0
    return layers, f"len(critic_units)={layers}"


@dataclasses.dataclass
class DDPGConfig:
    """Every hyperparameter of :class:`~agents.agent.DDPG`, with defaults that work across tasks.

    The defaults follow the DDPG paper except where a change measured better on Gymnasium's
    ``Pendulum-v1`` (``benchmarks/bench_pendulum.py``; the paper's values in brackets): a 256-256
    actor and a 256-256-256 critic [400-300 each], the actions joining the critic at its input [after
    its first hidden layer], actor learning rate 1e-3 [1e-4], gamma 0.995 [0.99], tau 0.005 [0.001],
    Gaussian noise of 0.05 [OU, sigma 0.2], added before the actor's tanh [after it], a proximal pull
    of the actor towards the target actor, ``proximal_weight`` 3 [none], and ``update_every`` 8 [1].
    Two more differ: the buffer holds 100,000 experiences [1,000,000], and the critic has no L2 weight
    decay [1e-2], which was not better on Pendulum. docs/decisions.md gives the measurements. Tasks
    tuned further keep their settings with their code: the takeoff's are
    ``quadcopter.presets.TAKEOFF_CONFIG``.
    """

    actor_units: tuple = setting((256, 256), "Hidden layer widths of the actor.", **_UNITS, accepted=_UNITS_ACCEPTED)
    critic_units: tuple = setting(
        (256, 256, 256), "Hidden layer widths of the critic.", **_UNITS, accepted=_UNITS_ACCEPTED
    )
    critic_action_layer: int = setting(
        0,
        "Critic hidden layers the states pass before the actions join (0: at the input, as TD3; 1: the paper's).",
        low=0,
        high=_critic_layers,
    )
    actor_lr: float = setting(1e-3, "Adam learning rate of the actor.", low=0, high=1, low_open=True, high_open=True)
    critic_lr: float = setting(1e-3, "Adam learning rate of the critic.", low=0, high=1, low_open=True, high_open=True)
    final_init: float = setting(
        3e-3, "Output layers start with weights in U(-final_init, final_init).", low=0, high=1, low_open=True
    )
    gamma: float = setting(
        0.995, "Discount per agent step (a horizon of about 1 / (1 - gamma) steps).", low=0, high=1, high_open=True
    )
    tau: float = setting(
        5e-3, "Soft target update: target <- tau * local + (1 - tau) * target.", low=0, high=1, low_open=True
    )
    batch_size: int = setting(64, "Experiences per gradient step.", low=1, high=_largest_batch)
    buffer_size: int = setting(100_000, "Replay buffer capacity, in experiences.", low=1, high=MAX_BUFFER_SIZE)
    warmup: int = setting(
        1_000,
        "Experiences stored before learning starts.",
        low=lambda c: (c.batch_size, f"batch_size={c.batch_size}"),
        high=lambda c: (c.buffer_size, f"buffer_size={c.buffer_size}"),
    )
    noise: str = setting("gaussian", "Exploration noise: Ornstein-Uhlenbeck or Gaussian.", choices=tuple(NOISES))
    noise_theta: float = setting(0.15, "OU pull towards zero per step.", low=0, high=1)
    noise_sigma: float = setting(0.05, "Noise scale, in normalised action units (actions in [-1, 1]).", low=0, high=2)
    noise_before_tanh: bool = setting(
        True, "Add the noise before the actor's tanh (a squashed Gaussian) instead of after it, clipped."
    )
    invert_gradients: bool = setting(
        False, "Scale each action gradient by the room left towards its bound (Hausknecht and Stone, 2016)."
    )
    proximal_weight: float = setting(
        3.0, "Pull of the actor's step towards the target actor's actions (0: off, as in the paper).", low=0, high=100
    )
    target_noise: float = setting(
        0.0, "TD3's target-policy smoothing: noise on the target actor's actions (0: off).", low=0, high=2
    )
    target_noise_clip: float = setting(0.5, "The clip of target_noise's draws.", low=0, high=2)
    policy_delay: int = setting(
        1, "TD3's delayed updates: actor and targets move every policy_delay-th update (1: always).", low=1, high=100
    )
    critic_layer_norm: bool = setting(False, "Layer normalisation after each of the critic's hidden layers.")
    update_every: int = setting(
        8,
        "In the Udacity loop, step() makes its updates every update_every steps, in one compiled call.",
        low=1,
        high=1_000,
    )
    updates_per_step: int = setting(
        1, "Updates per environment step, on average, in the Udacity loop.", low=1, high=100
    )
    clip_q_targets: bool = setting(
        False, "Clip the TD targets to the returns the task's reward_range allows (no effect without one)."
    )
    seed: int = setting(0, "Seeds Python, numpy and TensorFlow, and the agent's Generator.", low=0, flag="--seed")

    def validate(self) -> "DDPGConfig":
        """Raise ``ValueError`` naming the first setting out of its range; else return self."""
        validate_settings(self)
        return self

    def replace(self, **changes: Any) -> "DDPGConfig":
        """A validated copy with some settings changed (unknown names raise ``ValueError``)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(
                f"unknown DDPGConfig settings {sorted(unknown)}; known: {[f.name for f in dataclasses.fields(self)]}"
            )
        return dataclasses.replace(self, **changes).validate()

    def to_json(self) -> str:
        """The settings as JSON (a run's config.json)."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "DDPGConfig":
        """The config written by :meth:`to_json`; ``ValueError`` if a setting is missing, unknown or bad.

        A config written before ``critic_action_layer`` existed gets 1, the critic it was trained with;
        one written before ``updates_per_step`` existed gets 1, the one update per step it made; one
        written before ``noise_before_tanh`` existed gets False, the noise it explored with; one written
        before ``proximal_weight`` existed gets 0, the actor step it learned with.
        """
        values = json.loads(text)
        if isinstance(values, dict):
            for name, before in (
                ("critic_action_layer", 1),
                ("updates_per_step", 1),
                ("noise_before_tanh", False),
                ("proximal_weight", 0.0),
            ):
                values.setdefault(name, before)
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(values, dict) or set(values) != names:
            given = set(values) if isinstance(values, dict) else set()
            raise ValueError(
                f"a DDPGConfig needs exactly its settings; missing {sorted(names - given)}, "
                f"unknown {sorted(given - names)}"
            )
        for name in ("actor_units", "critic_units"):
            if isinstance(values[name], list):
                values[name] = tuple(values[name])
        return cls(**values).validate()
