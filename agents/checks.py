"""Input checks shared by the agents and the quadcopter code: one wording for every rejected value."""

import functools
import math
import os

import numpy as np


def shown(value):
    """``value`` as an error message shows it: itself when small, else its shape (a million-row array
    would drown the message). ``quadcopter.sim.shown`` is the same for the TensorFlow-free side."""
    size = np.size(value)
    return repr(value) if size <= 16 else f"an array of shape {np.shape(value)}"


LARGEST_INPUT = 1e6
"""The largest magnitude the agents take in a state, action or reward. The networks compute in float32
(largest 3.4e38), and the critic squares its errors on returns of about reward / (1 - gamma): a reward of
1e30 is finite, but its squared error is not, and every weight it touches turns NaN a few updates
later. 1e6 leaves a wide margin for any sensible scaling (the quadcopter's states are of order 1, its
rewards at most 3.75)."""


def finite_array(name, value, shape=None, dtype=np.float32, largest=LARGEST_INPUT):
    """``value`` as an array of ``dtype``; raises ``ValueError`` naming ``name`` and the value when it
    is not numeric, not finite, beyond ``largest`` in magnitude (:data:`LARGEST_INPUT`; None: what
    ``dtype`` holds), or (if ``shape`` is given) not of that shape."""
    largest = _largest(dtype) if largest is None else largest
    if type(value) is np.ndarray and value.dtype == dtype and (shape is None or value.shape == tuple(shape)):
        # Already of dtype (the agent hands its own checked arrays to the replay buffer): only the
        # range is left to check (NaN fails the comparison).
        if (np.abs(value) <= largest).all():
            return value.copy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers; got {shown(value)}") from None
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {shown(value)}")
    # One pass for the common case (this runs several times per step of the Udacity loop): NaN
    # fails every comparison, so only finite values within dtype's range pass.
    if not (np.abs(array) <= largest).all():
        if not np.isfinite(array).all():
            raise ValueError(f"{name} must be finite (no NaN or inf); got {shown(value)}")
        raise ValueError(
            f"{name} must be finite with |x| <= {largest:.3g} (larger values overflow the float32 arithmetic "
            f"of the networks); got {shown(value)}"
        )
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

    for name, test, accepted in checks:
        value = getattr(owner, name)
        try:
            ok = bool(test(value))
        except (TypeError, ValueError):
            ok = False
        if not ok or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError(f"{type(owner).__name__}.{name} must be {accepted}; got {value!r}")


def available_memory() -> int | None:
    """Bytes of memory this machine can still give a process (Linux's MemAvailable, else the free
    physical pages), or None where neither can be read (then nothing is refused for memory)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


MEMORY_SHARE = 0.8
"""The share of :func:`available_memory` that one piece of work may plan to use: the rest is for
TensorFlow, the interpreter and whatever else runs."""


def check_memory(what: str, needed: float, advice: str) -> None:
    """Raise ``ValueError`` before any work starts if ``what`` would need ``needed`` bytes, more than
    :data:`MEMORY_SHARE` of the memory available; the message gives both numbers and ``advice``."""
    available = available_memory()
    if available is not None and needed > MEMORY_SHARE * available:
        raise ValueError(
            f"{what} would need about {needed / 1e9:,.1f} GB of memory, and this machine has "
            f"{available / 1e9:,.1f} GB available (at most {MEMORY_SHARE:.0%} of it is planned for): {advice}"
        )
