"""The Udacity sample agent: random policy search on a linear policy, ported."""

from typing import Any

import numpy as np


class PolicySearch_Agent:
    """Hill climbing on a linear policy ``action = state @ w``, as in the Udacity template.

    After each episode, keeps ``w`` if its mean reward per step beat the best so far (and halves the
    noise scale, down to 0.01), else goes back to the best ``w`` (and doubles it, up to 3.2); then
    perturbs ``w`` with that noise. ``rng`` (a numpy Generator) is the only randomness.
    """

    def __init__(self, task: Any, rng: np.random.Generator | None = None) -> None:
        self.task = task
        self.rng = rng if rng is not None else np.random.default_rng()
        self.state_size, self.action_size = task.state_size, task.action_size
        self.action_low, self.action_high = task.action_low, task.action_high
        self.action_range = self.action_high - self.action_low
        self.w = self.rng.normal(
            scale=self.action_range / (2 * self.state_size), size=(self.state_size, self.action_size)
        )
        self.best_w: np.ndarray | None = None
        self.best_score = -np.inf
        self.score = -np.inf
        self.noise_scale = 0.1
        self.reset_episode()

    def reset_episode(self) -> np.ndarray:
        self.total_reward = 0.0
        self.count = 0
        return self.task.reset()

    def step(self, reward: float, done: bool) -> None:
        self.total_reward += reward
        self.count += 1
        if done:
            self.learn()

    def act(self, state: np.ndarray) -> np.ndarray:
        return np.dot(state, self.w)

    def learn(self) -> None:
        self.score = self.total_reward / self.count if self.count else 0.0
        if self.score > self.best_score:
            self.best_score, self.best_w = self.score, self.w
            self.noise_scale = max(0.5 * self.noise_scale, 0.01)
        else:
            self.w = self.best_w if self.best_w is not None else self.w
            self.noise_scale = min(2.0 * self.noise_scale, 3.2)
        self.w = self.w + self.noise_scale * self.rng.normal(size=self.w.shape)
