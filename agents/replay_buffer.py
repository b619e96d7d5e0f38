"""Replay buffers: the Udacity one (experience tuples) and one held in tensors for the fast path."""

from collections import namedtuple

import numpy as np
import tensorflow as tf

from .checks import finite_array

Experience = namedtuple("Experience", ["state", "action", "reward", "next_state", "done"])


class ReplayBuffer:
    """A fixed-size buffer of experiences, as in the Udacity template.

    ``add(state, action, reward, next_state, done)`` stores one; the oldest is dropped when full.
    ``sample()`` returns ``batch_size`` experiences drawn uniformly without replacement (a list of
    ``Experience``); ``len(buffer)`` is how many it holds. ``done`` should be True only for a real
    end (terminated), not for a time limit, so that learning bootstraps through time limits.

    The experiences are kept as rows of five float32 numpy arrays, ``columns`` (states, actions,
    rewards, next_states, dones), made at the first ``add`` with the shapes of its values. So
    :meth:`sample_arrays` gathers a batch with one fancy index per column, which is what
    ``DDPG.step`` uses on every step.
    """

    def __init__(self, buffer_size: int, batch_size: int, rng: np.random.Generator | None = None) -> None:
        if not (isinstance(buffer_size, (int, np.integer)) and buffer_size >= 1):
            raise ValueError(f"buffer_size must be an integer >= 1; got {buffer_size!r}")
        if not (isinstance(batch_size, (int, np.integer)) and 1 <= batch_size <= buffer_size):
            raise ValueError(f"batch_size must be an integer in [1, buffer_size={buffer_size}]; got {batch_size!r}")
        self.buffer_size, self.batch_size = int(buffer_size), int(batch_size)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.columns: list[np.ndarray] | None = None
        self.count = 0  # experiences ever added

    def add(self, state: np.ndarray, action: np.ndarray, reward: float, next_state: np.ndarray, done: bool) -> None:
        """Store one experience. Raises ``ValueError``, storing nothing, if a value is not finite or its
        shape differs from the first experience's."""
        names = ("state", "action", "reward", "next_state", "done")
        shapes = [None] * 5 if self.columns is None else [column.shape[1:] for column in self.columns]
        values = [
            finite_array(name, value, shape)
            for name, value, shape in zip(names, (state, action, reward, next_state, done), shapes)
        ]
        if self.columns is None:
            self.columns = [np.zeros((self.buffer_size,) + np.shape(value), np.float32) for value in values]
        row = self.count % self.buffer_size
        for column, value in zip(self.columns, values):
            column[row] = value
        self.count += 1

    def sample_arrays(self, batch_size: int | None = None) -> tuple[np.ndarray, ...]:
        """A batch as five float32 arrays: states, actions, rewards, next_states, dones (1.0 for True)."""
        batch_size = self.batch_size if batch_size is None else batch_size
        rows = self.rng.choice(len(self), size=batch_size, replace=False)
        return tuple(column[rows] for column in self.columns or [])

    def sample_batches(self, count: int, batch_size: int | None = None) -> tuple[np.ndarray, ...]:
        """``count`` batches at once, each drawn as in :meth:`sample_arrays`: five arrays of shape
        (count, batch_size, ...)."""
        batch_size = self.batch_size if batch_size is None else batch_size
        rows = np.stack([self.rng.choice(len(self), size=batch_size, replace=False) for _ in range(count)])
        return tuple(column[rows] for column in self.columns or [])

    def sample(self, batch_size: int | None = None) -> list[Experience]:
        """A batch as a list of ``Experience`` (drawn as in :meth:`sample_arrays`)."""
        states, actions, rewards, next_states, dones = self.sample_arrays(batch_size)
        return [
            Experience(state, action, float(reward), next_state, bool(done))
            for state, action, reward, next_state, done in zip(states, actions, rewards, next_states, dones)
        ]

    def __len__(self) -> int:
        return min(self.count, self.buffer_size)


class TensorReplayBuffer:
    """A ring buffer of transitions in ``tf.Variable`` s, filled N at a time by vectorised environments.

    Columns: states (S), actions (A, normalised), rewards (1), next_states (S), terminated (1).
    :meth:`write` stores N rows inside a compiled graph (the fused path); :meth:`add_batch` does the
    same from numpy arrays. Updates gather their batches from :attr:`columns` inside their own
    compiled call, so transitions never go back to numpy. ``count`` (a variable: transitions ever
    written) is saved with the columns by :meth:`checkpoint`.
    """

    def __init__(self, buffer_size: int, state_size: int, action_size: int) -> None:
        if not (isinstance(buffer_size, (int, np.integer)) and buffer_size >= 1):
            raise ValueError(f"buffer_size must be an integer >= 1; got {buffer_size!r}")
        self.buffer_size = int(buffer_size)
        widths = (state_size, action_size, 1, state_size, 1)
        self.columns = [tf.Variable(tf.zeros((self.buffer_size, w)), trainable=False) for w in widths]
        self.count = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._write = tf.function(self.write)

    def write(
        self, states: tf.Tensor, actions: tf.Tensor, rewards: tf.Tensor, next_states: tf.Tensor, terminated: tf.Tensor
    ) -> None:
        """Store N transitions, float32 tensors (N, S), (N, A), (N, 1), (N, S), (N, 1); graph code."""
        n = tf.shape(states, out_type=tf.int64)[0]
        rows = (self.count + tf.range(n)) % self.buffer_size
        for column, values in zip(self.columns, (states, actions, rewards, next_states, terminated)):
            column.scatter_nd_update(rows[:, None], values)
        self.count.assign_add(n)

    def size(self) -> tf.Tensor:
        """How many transitions it holds, as an int32 tensor (graph code)."""
        return tf.cast(tf.minimum(self.count, self.buffer_size), tf.int32)

    def add_batch(
        self,
        states: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_states: np.ndarray,
        terminated: np.ndarray,
    ) -> None:
        """Store N transitions from arrays (N, S), (N, A), (N,), (N, S), (N,)."""
        n = len(states)
        states, actions, next_states = (
            finite_array(name, x, (n, width))
            for name, x, width in (
                ("states", states, self.columns[0].shape[1]),
                ("actions", actions, self.columns[1].shape[1]),
                ("next_states", next_states, self.columns[3].shape[1]),
            )
        )
        rewards, terminated = finite_array("rewards", rewards, (n,)), finite_array("terminated", terminated, (n,))
        if n > self.buffer_size:
            raise ValueError(f"a batch of {n} transitions does not fit a buffer of {self.buffer_size}")
        as_tensor = lambda x: tf.convert_to_tensor(np.asarray(x, np.float32))  # noqa: E731
        self._write(
            as_tensor(states),
            as_tensor(actions),
            as_tensor(np.reshape(rewards, (n, 1))),
            as_tensor(next_states),
            as_tensor(np.reshape(terminated, (n, 1))),
        )

    def checkpoint(self) -> tf.train.Checkpoint:
        """A ``tf.train.Checkpoint`` of the columns and the count."""
        return tf.train.Checkpoint(count=self.count, **{f"column_{i}": c for i, c in enumerate(self.columns)})

    def __len__(self) -> int:
        return min(int(self.count.numpy()), self.buffer_size)
