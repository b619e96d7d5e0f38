"""Input checks shared by the agents and the quadcopter code: one wording for every rejected value."""

import functools

import numpy as np


def shown(value):
    """``value`` as an error message shows it: itself when small, else its shape (a million-row array
    would drown the message). ``quadcopter.sim.shown`` is the same for the TensorFlow-free side."""
    size = np.size(value)
    return repr(value) if size <= 16 else f"an array of shape {np.shape(value)}"


def finite_array(name, value, shape=None, dtype=np.float32):
    """``value`` as an array of ``dtype``; raises ``ValueError`` naming ``name`` and the value when it
    is not numeric, not finite, beyond what ``dtype`` holds, or (if ``shape`` is given) not of that shape."""
    if type(value) is np.ndarray and value.dtype == dtype and (shape is None or value.shape == tuple(shape)):
        # Already of dtype (the agent hands its own checked arrays to the replay buffer): only the
        # finiteness is left to check.
        if np.isfinite(value).all():
            return value.copy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers; got {shown(value)}") from None
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {shown(value)}")
    largest = _largest(dtype)
    # One pass for the common case (this runs several times per step of the Udacity loop): NaN
    # fails every comparison, so only finite values within dtype's range pass.
    if not (np.abs(array) <= largest).all():
        if not np.isfinite(array).all():
            raise ValueError(f"{name} must be finite (no NaN or inf); got {shown(value)}")
        raise ValueError(f"{name} must be finite in {np.dtype(dtype).name} (|x| <= {largest:.3g}); got {shown(value)}")
    return array.astype(dtype)


@functools.cache
def _largest(dtype):
    return float(np.finfo(dtype).max)


def integer_in(low, high=float("inf")):
    """A test for :func:`check_fields`: an int (not a bool) in [low, high]."""
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_fields(owner, checks):
    """Validate the settings of a dataclass: ``checks`` is a list of (name, test, accepted), where
    ``test(value)`` is True for a good value and ``accepted`` says in words what is. Raises
    ``ValueError("Owner.name must be <accepted>; got <value>")`` for the first that fails, a test that
    raises (e.g. comparing None) or a float that is not finite."""
    import math

    for name, test, accepted in checks:
        value = getattr(owner, name)
        try:
            ok = bool(test(value))
        except (TypeError, ValueError):
            ok = False
        if not ok or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError(f"{type(owner).__name__}.{name} must be {accepted}; got {value!r}")
