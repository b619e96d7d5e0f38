"""Exploration noise, in the agent's normalised action units (actions in [-1, 1]): the processes that
draw it (:class:`OUNoise`, :class:`GaussianNoise`) and the two ways of adding it to the actor's actions
(:func:`add_noise`)."""

import numpy as np

TANH_EDGE = 1.0 - 1e-6
"""Actions are clipped to +-this before atanh, which is infinite at +-1."""


def add_noise_before_tanh(normalised: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """tanh(atanh(a) + draw) for the actor's tanh outputs ``a`` in [-1, 1] (any shape; ``draw``
    broadcasts): the noise added to the actor's pre-activation. The fused path does the same in TensorFlow."""
    return np.tanh(np.arctanh(np.clip(normalised, -TANH_EDGE, TANH_EDGE)) + draw)


def add_noise(normalised: np.ndarray, draw: np.ndarray, before_tanh: bool) -> np.ndarray:
    """The actor's normalised actions with the noise ``draw`` added: before the tanh if ``before_tanh``
    (``DDPGConfig.noise_before_tanh`` says why), else after it and clipped to [-1, 1]."""
    if before_tanh:
        return add_noise_before_tanh(normalised, draw)
    return np.clip(normalised + draw, -1.0, 1.0)


class OUNoise:
    """Ornstein-Uhlenbeck process: x += theta (mu - x) + sigma N(0, 1), one step per ``sample()``.

    Args:
        size: shape of one sample: ``action_size``, or ``(num_envs, action_size)``.
        mu, theta, sigma: mean, pull towards the mean per step, and step noise (DDPG paper: 0, 0.15, 0.2).
        rng: a ``numpy.random.Generator``; the only randomness used.
    """

    def __init__(
        self,
        size: int | tuple[int, ...],
        mu: float = 0.0,
        theta: float = 0.15,
        sigma: float = 0.2,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.size, self.mu, self.theta, self.sigma = size, mu, theta, sigma
        self.rng = rng if rng is not None else np.random.default_rng()
        self.reset()

    def reset(self, rows: np.ndarray | None = None) -> None:
        """Back to the mean: all of it, or the chosen rows (for per-environment resets)."""
        if rows is None:
            self.state = np.full(self.size, self.mu, dtype=float)
        else:
            self.state[rows] = self.mu

    def sample(self) -> np.ndarray:
        self.state = self.state + self.theta * (self.mu - self.state) + self.sigma * self.rng.standard_normal(self.size)
        return self.state


class GaussianNoise:
    """Independent N(mu, sigma^2) each sample (``theta`` is ignored); the same interface as :class:`OUNoise`."""

    def __init__(
        self,
        size: int | tuple[int, ...],
        mu: float = 0.0,
        theta: float | None = None,
        sigma: float = 0.1,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.size, self.mu, self.sigma = size, mu, sigma
        self.rng = rng if rng is not None else np.random.default_rng()
        self.state = np.full(self.size, self.mu, dtype=float)

    def reset(self, rows: np.ndarray | None = None) -> None:
        pass

    def sample(self) -> np.ndarray:
        self.state = self.mu + self.sigma * self.rng.standard_normal(self.size)
        return self.state


NOISES = {"ou": OUNoise, "gaussian": GaussianNoise}
