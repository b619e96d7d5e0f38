"""The agents: DDPG (``agents.agent.DDPG``) and the Udacity policy-search sample.

Importing this package registers :class:`agents.actor.ScaleToRange`, so that a saved actor
(``actor.keras``) loads with ``keras.models.load_model``.
"""

from .actor import ScaleToRange  # noqa: F401  (registers the layer for loading saved actors)
