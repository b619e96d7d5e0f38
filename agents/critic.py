"""The critic Q(s, a), its TD training step, and the action gradients dQ/da it hands to the actor."""

from typing import Any

import keras
import numpy as np
import tensorflow as tf


def build_critic_network(
    state_size: int,
    action_size: int,
    units: tuple[int, ...],
    final_init: float = 3e-3,
    name: str = "critic",
    layer_norm: bool = False,
    action_layer: int = 1,
) -> keras.Model:
    """[states (batch, state_size), actions (batch, action_size)] -> Q (batch, 1).

    The states pass ``action_layer`` hidden layers (0 to ``len(units)``) before the actions join
    them: 1, after the first hidden layer, as in the DDPG paper; 0, beside the states at the input,
    as in TD3, SB3 and CleanRL. The output layer starts in U(-final_init, final_init) so that the
    first Q estimates are near zero. With ``layer_norm``, each hidden layer's pre-activations are
    layer-normalised before the ReLU.
    """
    if not (isinstance(action_layer, int) and 0 <= action_layer <= len(units)):
        raise ValueError(
            f"action_layer must be an integer in [0, {len(units)}] for units {units}; got {action_layer!r}"
        )

    def hidden(x: Any, width: int, i: int) -> Any:
        x = keras.layers.Dense(width, name=f"hidden_{i}")(x)
        if layer_norm:
            x = keras.layers.LayerNormalization(name=f"layer_norm_{i}")(x)
        return keras.layers.ReLU(name=f"relu_{i}")(x)

    states = keras.Input((state_size,), name="states")
    actions = keras.Input((action_size,), name="actions")
    x = states
    for i, width in enumerate(units):
        if i == action_layer:
            x = keras.layers.Concatenate(name="state_and_action")([x, actions])
        x = hidden(x, width, i)
    if action_layer == len(units):
        x = keras.layers.Concatenate(name="state_and_action")([x, actions])
    init = keras.initializers.RandomUniform(-final_init, final_init)
    q_values = keras.layers.Dense(1, kernel_initializer=init, bias_initializer=init, name="q_value")(x)
    return keras.Model([states, actions], q_values, name=name)


class Critic:
    """The action-value function Q(s, a), as in the Udacity template.

    Args:
        state_size, action_size: sizes of a state and an action (the actions it sees are the
            agent's normalised actions in [-1, 1]).
        units: hidden layer widths (DDPG paper: 400, 300).
        learning_rate: Adam step size (DDPG paper: 1e-3).
        layer_norm: layer-normalise the hidden layers (before the ReLU).
        action_layer: how many hidden layers the states pass before the actions join them (DDPG
            paper: 1; TD3: 0).

    Attributes: ``model`` (the ``keras.Model``) and ``optimizer``.
    """

    def __init__(
        self,
        state_size: int,
        action_size: int,
        units: tuple[int, ...] = (400, 300),
        learning_rate: float = 1e-3,
        final_init: float = 3e-3,
        name: str = "critic",
        layer_norm: bool = False,
        action_layer: int = 1,
    ) -> None:
        self.state_size, self.action_size = state_size, action_size
        self.model = build_critic_network(
            state_size, action_size, units, final_init, name=name, layer_norm=layer_norm, action_layer=action_layer
        )
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        self._train_step = tf.function(self.train_step)
        self._action_gradients = tf.function(self.action_gradients)

    def train_step(self, states: tf.Tensor, actions: tf.Tensor, q_targets: tf.Tensor) -> tf.Tensor:
        """One Adam step on the TD loss mean((Q(s, a) - q_targets)^2); returns the loss."""
        with tf.GradientTape() as tape:
            q_values = self.model([states, actions], training=True)
            loss = tf.reduce_mean(tf.square(q_values - q_targets))
        gradients = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.model.trainable_variables))
        return loss

    def action_gradients(self, states: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
        """dQ(s, a)/da for each row: shape (batch, action_size). The critic's weights do not change."""
        with tf.GradientTape() as tape:
            tape.watch(actions)
            q_values = self.model([states, actions], training=False)
        # Q of one row depends only on that row's action, so the gradient of the sum is per row.
        return tape.gradient(q_values, actions)

    def train_fn(self, states: np.ndarray, actions: np.ndarray, q_targets: np.ndarray) -> tf.Tensor:
        """Compiled :meth:`train_step`, accepting numpy arrays."""
        return self._train_step(*(tf.convert_to_tensor(x, tf.float32) for x in (states, actions, q_targets)))

    def get_action_gradients(self, states: np.ndarray, actions: np.ndarray) -> tf.Tensor:
        """Compiled :meth:`action_gradients`, accepting numpy arrays; returns a tensor."""
        return self._action_gradients(
            tf.convert_to_tensor(states, tf.float32), tf.convert_to_tensor(actions, tf.float32)
        )
