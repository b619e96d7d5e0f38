"""Teach a quadcopter how to fly: simulator, tasks and tools (the TensorFlow 2 port of the Udacity project).

Nothing in this package imports TensorFlow; the agents live in the top-level ``agents`` package.
"""

from .dynamics import hover_rotor_speed
from .sim import PhysicsSim, VectorPhysicsSim

__all__ = ["PhysicsSim", "VectorPhysicsSim", "hover_rotor_speed"]
