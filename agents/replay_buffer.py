"""Replay buffers: the Udacity one (experience tuples) and one held in tensors for the fast path."""

from collections import namedtuple

import numpy as np
import tensorflow as tf

Experience = namedtuple("Experience", ["state", "action", "reward", "next_state", "done"])


class ReplayBuffer:
    """A fixed-size buffer of experience tuples, as in the Udacity template.

    ``add(state, action, reward, next_state, done)`` stores one; the oldest is dropped when full.
    ``sample()`` returns ``batch_size`` experiences drawn uniformly without replacement (a list of
    ``Experience``); ``len(buffer)`` is how many it holds. ``done`` should be True only for a real
    end (terminated), not for a time limit, so that learning bootstraps through time limits.
    """

    def __init__(self, buffer_size, batch_size, rng=None):
        if batch_size > buffer_size:
            raise ValueError(f"batch_size must be <= buffer_size; got {batch_size} > {buffer_size}")
        self.buffer_size, self.batch_size = int(buffer_size), int(batch_size)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.memory = [None] * self.buffer_size
        self.count = 0  # experiences ever added

    def add(self, state, action, reward, next_state, done):
        self.memory[self.count % self.buffer_size] = Experience(state, action, reward, next_state, done)
        self.count += 1

    def sample(self, batch_size=None):
        batch_size = self.batch_size if batch_size is None else batch_size
        indices = self.rng.choice(len(self), size=batch_size, replace=False)
        return [self.memory[i] for i in indices]

    def __len__(self):
        return min(self.count, self.buffer_size)


class TensorReplayBuffer:
    """A ring buffer of transitions in ``tf.Variable`` s, filled N at a time by vectorised environments.

    Columns: states (S), actions (A, normalised), rewards (1), next_states (S), terminated (1).
    ``add_batch`` writes N rows in one compiled call; the fast path gathers batches from
    :attr:`columns` inside its own compiled update, so transitions never go back to numpy.
    """

    def __init__(self, buffer_size, state_size, action_size):
        self.buffer_size = int(buffer_size)
        widths = (state_size, action_size, 1, state_size, 1)
        self.columns = [tf.Variable(tf.zeros((self.buffer_size, w)), trainable=False) for w in widths]
        self.count = 0
        self._write = tf.function(self._write_rows)

    def _write_rows(self, rows, states, actions, rewards, next_states, terminated):
        for column, values in zip(self.columns, (states, actions, rewards, next_states, terminated)):
            column.scatter_nd_update(rows[:, None], values)

    def add_batch(self, states, actions, rewards, next_states, terminated):
        """Store N transitions: arrays (N, S), (N, A), (N,), (N, S), (N,)."""
        n = len(states)
        if n > self.buffer_size:
            raise ValueError(f"a batch of {n} transitions does not fit a buffer of {self.buffer_size}")
        rows = (self.count + np.arange(n)) % self.buffer_size
        as_tensor = lambda x: tf.convert_to_tensor(np.asarray(x, np.float32))  # noqa: E731
        self._write(tf.convert_to_tensor(rows, tf.int32), as_tensor(states), as_tensor(actions),
                    as_tensor(np.reshape(rewards, (n, 1))), as_tensor(next_states),
                    as_tensor(np.reshape(terminated, (n, 1))))
        self.count += n

    def __len__(self):
        return min(self.count, self.buffer_size)
