"""An adapter from a Gymnasium environment to the Udacity task interface that :class:`~agents.agent.DDPG` uses.

    env = gymnasium.make("Pendulum-v1")            # any env with a 1-D Box action space
    task = GymTask(env, seed=0)
    agent = DDPG(task)
    state = agent.reset_episode()
    while True:
        action = agent.act(state)
        next_state, reward, done = task.step(action)
        agent.step(action, reward, next_state, done)
        state = next_state
        if done:
            break

Gymnasium is not imported here: the adapter only calls the env's ``reset``, ``step`` and spaces.
"""

from typing import Any

import numpy as np


class GymTask:
    """A Gymnasium env seen as a Udacity task: ``state_size``, ``action_size``, ``action_low``,
    ``action_high``, ``reset() -> state`` and ``step(action) -> (next_state, reward, done)``.

    ``done`` is ``terminated or truncated``; ``terminated`` and ``truncated`` of the last step stay
    readable as attributes (DDPG bootstraps through a truncation), and ``info`` holds the last info
    dict. ``seed`` seeds the first reset only, as Gymnasium intends (later resets continue its
    ``np_random``).
    """

    def __init__(self, env: Any, seed: int | None = None) -> None:
        space = env.action_space
        if getattr(space, "shape", None) is None or len(space.shape) != 1 or not hasattr(space, "low"):
            raise ValueError(f"GymTask needs an env with a 1-D Box action space; got {space!r}")
        self.env = env
        self.state_size = int(np.prod(env.observation_space.shape))
        self.action_size = int(space.shape[0])
        self.action_low = np.asarray(space.low, dtype=float)
        self.action_high = np.asarray(space.high, dtype=float)
        self._seed = seed
        self.terminated = self.truncated = False
        self.info: dict[str, Any] = {}

    def reset(self) -> np.ndarray:
        state, self.info = self.env.reset(seed=self._seed)
        self._seed = None
        self.terminated = self.truncated = False
        return np.asarray(state, dtype=float).ravel()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool]:
        action = np.asarray(action, dtype=self.env.action_space.dtype)
        state, reward, terminated, truncated, self.info = self.env.step(action)
        self.terminated, self.truncated = bool(terminated), bool(truncated)
        return np.asarray(state, dtype=float).ravel(), float(reward), self.terminated or self.truncated
