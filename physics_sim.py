"""Udacity-compatible module: ``from physics_sim import PhysicsSim`` (the simulator lives in ``quadcopter``)."""

from quadcopter.sim import PhysicsSim

__all__ = ["PhysicsSim"]
