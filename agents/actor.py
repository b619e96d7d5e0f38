"""The actor (policy) network mu(s) and its training step on the critic's action gradients."""

from typing import Any

import keras
import numpy as np
import tensorflow as tf


def scale_to_range(normalised: Any, low: Any, high: Any) -> Any:
    """Normalised actions in [-1, 1] -> [low, high], per action dimension (numpy arrays or tensors).
    The one home of this mapping in the agents: the actor's output layer and ``DDPG.act`` use it."""
    return low + (normalised + 1.0) * 0.5 * (high - low)


def normalise_from_range(actions: Any, low: Any, high: Any) -> Any:
    """The inverse of :func:`scale_to_range`: actions in [low, high] -> [-1, 1]."""
    return (actions - low) / (high - low) * 2.0 - 1.0


@keras.saving.register_keras_serializable(package="agents")
class ScaleToRange(keras.layers.Layer):
    """Maps values in [-1, 1] linearly to [low, high] (per action dimension).

    A named, serialisable layer: the original used a ``Lambda`` layer here, which Keras 3 refuses
    to reload from a saved model.
    """

    def __init__(self, low: Any, high: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Plain floats or lists of floats, so that the config is JSON.
        self.low = np.asarray(low, dtype=float).tolist()
        self.high = np.asarray(high, dtype=float).tolist()

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        low = tf.constant(self.low, inputs.dtype)
        high = tf.constant(self.high, inputs.dtype)
        return scale_to_range(inputs, low, high)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "low": self.low, "high": self.high}


def build_actor_network(
    state_size: int, action_size: int, units: tuple[int, ...], final_init: float = 3e-3, name: str = "actor"
) -> keras.Model:
    """states (batch, state_size) -> normalised actions (batch, action_size) in [-1, 1].

    Hidden layers are ReLU; the output is tanh with weights drawn from U(-final_init, final_init)
    (the DDPG paper's 3e-3), so that at the start the outputs sit near 0, far from tanh's flat ends.
    """
    states = keras.Input((state_size,), name="states")
    x = states
    for i, width in enumerate(units):
        x = keras.layers.Dense(width, activation="relu", name=f"hidden_{i}")(x)
    init = keras.initializers.RandomUniform(-final_init, final_init)
    actions = keras.layers.Dense(
        action_size, activation="tanh", kernel_initializer=init, bias_initializer=init, name="actions"
    )(x)
    return keras.Model(states, actions, name=name)


class Actor:
    """The policy mu(s), as in the Udacity template.

    Args:
        state_size, action_size: sizes of a state and an action.
        action_low, action_high: the task's action range (scalars or per-dimension arrays).
        units: hidden layer widths (DDPG paper: 400, 300).
        learning_rate: Adam step size (DDPG paper: 1e-4).
        final_init: the output layer's weights start in U(-final_init, final_init).

    Attributes:
        network: ``keras.Model`` from states to *normalised* actions in [-1, 1]: what the agent
            trains and what the critic sees.
        model: ``keras.Model`` from states to actions in [action_low, action_high]: the network
            followed by :class:`ScaleToRange`; save and load this one.
        optimizer: its Adam optimizer.
    """

    def __init__(
        self,
        state_size: int,
        action_size: int,
        action_low: Any,
        action_high: Any,
        units: tuple[int, ...] = (400, 300),
        learning_rate: float = 1e-4,
        final_init: float = 3e-3,
        name: str = "actor",
    ) -> None:
        self.state_size, self.action_size = state_size, action_size
        self.action_low, self.action_high = action_low, action_high
        self.network = build_actor_network(state_size, action_size, units, final_init, name=f"{name}_network")
        scaled = ScaleToRange(action_low, action_high, name="rotor_speeds_scale")(self.network.output)
        self.model = keras.Model(self.network.input, scaled, name=name)
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.network.trainable_variables)
        self._train_step = tf.function(self.train_step)

    def train_step(self, states: tf.Tensor, action_gradients: tf.Tensor) -> tf.Tensor:
        """One Adam step on loss = mean(-action_gradients * actions), actions = network(states).

        ``action_gradients`` is dQ/da from the critic at a = mu(s), shape (batch, action_size),
        handed over as plain data. Why it works: DDPG wants the actor to maximise Q(s, mu(s)), so
        -Q is the loss, and by the chain rule
            d(-Q)/dw = d mu(s)/dw * (-dQ/da at a = mu(s)).
        The gradient of mean(-action_gradients * actions) with respect to the actor's weights is
        exactly that product (divided by batch * action_size from the mean), because the action
        gradients are constants to this tape. Running autograd through the critic instead would
        need the critic's weights held still; here the critic is simply not on the tape, so only
        the actor's weights move. Returns the loss.
        """
        action_gradients = tf.stop_gradient(action_gradients)  # data from the critic, never differentiated
        with tf.GradientTape() as tape:
            actions = self.network(states, training=True)
            loss = tf.reduce_mean(-action_gradients * actions)
        gradients = tape.gradient(loss, self.network.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.network.trainable_variables))
        return loss

    def train_fn(self, states: np.ndarray, action_gradients: np.ndarray) -> tf.Tensor:
        """The Udacity name for :meth:`train_step`, compiled, accepting numpy arrays."""
        return self._train_step(
            tf.convert_to_tensor(states, tf.float32), tf.convert_to_tensor(action_gradients, tf.float32)
        )


class NumpyPolicy:
    """A numpy copy of an actor network, for acting one state at a time (the Udacity loop).

    A compiled TensorFlow call costs a few hundred microseconds on a CPU, whatever the network's
    size; the 64-64 actor's arithmetic on one state costs about 10 microseconds in numpy. So
    :meth:`DDPG.act <agents.agent.DDPG.act>` runs this copy. It holds the weights as they were at
    the last :meth:`refresh`. Whatever changes the network's weights calls :meth:`mark_stale` (the
    agent's updates, ``DDPG.set_actor_weights``, the fused training round), and the next call reads
    the weights again, so they are read only when someone acts; code that assigns the network's
    variables directly must call :meth:`mark_stale` itself.
    """

    def __init__(self, network: keras.Model) -> None:
        self.network = network
        self.refresh()

    def mark_stale(self) -> None:
        """The network's weights changed: read them again before the next action."""
        self.weights: list[tuple[np.ndarray, np.ndarray]] | None = None

    def refresh(self, values: list | None = None) -> None:
        """Copy the network's current weights, or take ``values``: the arrays of ``network.weights``
        (kernel, bias, kernel, bias, ...) as a compiled call returned them, which saves reading each
        variable again."""
        if values is None:
            values = [w.numpy() for w in self.network.weights]
        arrays = [np.asarray(v) for v in values]
        self.weights = list(zip(arrays[0::2], arrays[1::2]))

    def __call__(self, states: np.ndarray) -> np.ndarray:
        """Normalised actions (batch, action_size) for float32 states (batch, state_size): ReLU layers, tanh out."""
        if self.weights is None:
            self.refresh()
        weights = self.weights or []
        x = states
        for kernel, bias in weights[:-1]:
            x = np.maximum(x @ kernel + bias, 0.0)
        kernel, bias = weights[-1]
        return np.tanh(x @ kernel + bias)
