"""Udacity-compatible module: ``from task import Task`` gives the takeoff task (see ``quadcopter.tasks``)."""

from quadcopter.tasks import TakeoffTask as Task

__all__ = ["Task"]
