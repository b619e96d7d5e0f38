"""The agents: DDPG (``agents.agent.DDPG``, its settings in ``agents.config.DDPGConfig``) and the Udacity
policy-search sample.

Importing the package itself imports nothing else, so that ``agents.config`` and ``agents.checks`` (the
settings and their checks) load without TensorFlow. A saved actor (``actor.keras``) needs its output
layer, :class:`agents.actor.ScaleToRange`: ``import agents.actor`` (``agents.agent`` imports it too)
before ``keras.models.load_model``.
"""
