"""The fast path's pieces, apart from the Udacity loop's: a replay buffer held in ``tf.Variable`` s
and many DDPG updates per compiled call on batches gathered from it.

``DDPG`` keeps the Udacity loop (``memory``, ``noise``, ``act``, ``step``); a trainer that steps many
environments at once asks it for this object (``agent.use_tensor_memory()`` makes it) and writes
transitions into its buffer, in numpy (:meth:`TensorReplayBuffer.add_batch`) or inside a compiled
graph (:meth:`TensorReplayBuffer.write`, the fused training path).
"""

from typing import Any

import numpy as np
import tensorflow as tf

from .replay_buffer import TensorReplayBuffer


class TensorLearner:
    """A :class:`TensorReplayBuffer` (``memory``) and the compiled call that makes many of ``agent``'s
    updates (``DDPG.update_many``) on batches drawn from it with ``agent.rng``."""

    def __init__(self, agent: Any, jit_compile: bool = True) -> None:
        self.agent = agent
        self.memory = TensorReplayBuffer(agent.config.buffer_size, agent.state_size, agent.action_size)
        self._learn = tf.function(self._update_from_indices, jit_compile=jit_compile)

    def _update_from_indices(self, indices):
        return self.agent.update_many(self.memory.columns, indices)

    def learn_many(self, num_updates: int) -> tuple[float, float]:
        """``num_updates`` updates on batches drawn uniformly from the buffer, in one call."""
        indices = self.agent.rng.integers(0, len(self.memory), size=(num_updates, self.agent.config.batch_size))
        return self.learn_from_indices(indices)

    def learn_from_indices(self, indices: np.ndarray) -> tuple[float, float]:
        """One update per row of ``indices`` (num_updates, batch): the rows of the buffer to learn from."""
        critic_loss, actor_loss = self._learn(tf.convert_to_tensor(indices, tf.int32))
        self.agent.policy.mark_stale()
        return float(critic_loss), float(actor_loss)
