"""Input checks shared by the agents and the quadcopter code: one wording for every rejected value.

It also holds the one way a setting is declared (:func:`setting`): its type (the default's), default,
range and one-line description live in the dataclass field, and everything else is made from that
field: the validation (:func:`validate_settings`), the text a command line hands in
(:func:`parse_setting`), the command line's flags (``quadcopter.cli``) and the README's settings
table (:func:`settings_table`). This module needs numpy only, so that the command line reads and
checks settings without importing TensorFlow.
"""

import dataclasses
import functools
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np


def shown(value: Any) -> str:
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


def finite_array(
    name: str, value: Any, shape: tuple | None = None, dtype: Any = np.float32, largest: float | None = LARGEST_INPUT
) -> np.ndarray:
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


# --- Declared settings --------------------------------------------------------------------------------

Bound = float | int | Callable[[Any], tuple[float, str]] | None
"""A limit of a setting's range: a number, None (no limit), or ``owner -> (limit, how the message writes
it)`` for a limit that depends on another setting (``batch_size <= buffer_size``)."""


@dataclasses.dataclass(frozen=True)
class Declared:
    """What a settings dataclass declares about one field, beyond its name, type and default (the
    type is the default's: bool, int, float, str, or a tuple of ints)."""

    doc: str
    """One line: what the setting does (the flag's help and the README's table use it)."""
    low: Bound = None
    high: Bound = None
    low_open: bool = False
    """True: the range excludes ``low`` (``(0, 1]``)."""
    high_open: bool = False
    choices: tuple | None = None
    """The accepted values of a str setting (None: any, then ``test`` decides)."""
    length: tuple[int, int] | None = None
    """For a tuple of ints: the fewest and most entries (each entry in [low, high])."""
    unit: str = ""
    """What a number counts ("seconds", "environment steps"), for the messages."""
    test: Callable[[Any], bool] | None = None
    """A further test of the value, described by ``accepted``."""
    accepted: str | None = None
    """The accepted values in words, instead of the text made from the range."""
    flag: str | None = None
    """The command line's flag for it ("--num-envs"; a bool's flag takes no value and sets the opposite of
    the default); None: none of its own (DDPGConfig's are set with ``--set NAME=VALUE``)."""


def setting(default: Any, doc: str, **declared: Any) -> Any:
    """A dataclass field with its declaration: ``num_envs: int = setting(16, "Episodes run side by side.",
    low=1, high=4096, flag="--num-envs")``. ``declared`` are :class:`Declared`'s fields."""
    return dataclasses.field(default=default, metadata={"declared": Declared(doc, **declared)})


def declared_fields(settings_class: type) -> list[tuple[dataclasses.Field, Declared]]:
    """(field, declaration) of every declared field of a settings dataclass (or instance), in order."""
    return [(f, f.metadata["declared"]) for f in dataclasses.fields(settings_class) if "declared" in f.metadata]


def _limit(bound: Bound, owner: Any) -> tuple[float | None, str]:
    if bound is None:
        return None, ""
    if callable(bound):
        return bound(owner)
    return bound, f"{bound:,}" if isinstance(bound, int) else f"{bound:g}"


def accepted_text(field: dataclasses.Field, declared: Declared, owner: Any = None) -> str:
    """The accepted values of a setting in words, as its error message and its help show them."""
    if declared.accepted:
        return declared.accepted
    kind = type(field.default)
    if kind is bool:
        return "True or False"
    if declared.choices is not None:
        return f"one of {list(declared.choices)}"
    low, low_text = _limit(declared.low, owner)
    high, high_text = _limit(declared.high, owner)
    noun = "an integer" if kind in (int, tuple) else "a number"
    if declared.unit:
        noun += f" number of {declared.unit}" if kind is int else f" of {declared.unit}"
    if high is None:
        interval = f">= {low_text}" if low is not None else ""
    else:
        interval = f"in {'(' if declared.low_open else '['}{low_text}, {high_text}{')' if declared.high_open else ']'}"
    if kind is tuple:
        fewest, most = declared.length or (1, 1)
        return f"{fewest} to {most} entries, each {noun} {interval}"
    return f"{noun} {interval}".strip()


def _within(value: Any, declared: Declared, owner: Any, kind: type) -> bool:
    """True if the number ``value`` is of ``kind`` (an int for int settings, any finite number for float
    ones; never a bool) and inside the declared range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind is int and not isinstance(value, int):
        return False
    if not math.isfinite(value):
        return False
    low, _ = _limit(declared.low, owner)
    high, _ = _limit(declared.high, owner)
    if low is not None and (value <= low if declared.low_open else value < low):
        return False
    return high is None or (value < high if declared.high_open else value <= high)


def _good(field: dataclasses.Field, declared: Declared, value: Any, owner: Any) -> bool:
    kind = type(field.default)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is str:
        ok = isinstance(value, str) and (declared.choices is None or value in declared.choices)
    elif kind is tuple:
        fewest, most = declared.length or (1, 1)
        ok = isinstance(value, (tuple, list)) and fewest <= len(value) <= most
        ok = ok and all(_within(entry, declared, owner, int) for entry in value)
    else:
        ok = _within(value, declared, owner, kind)
    if ok and declared.test is not None:
        try:
            ok = bool(declared.test(value))
        except (TypeError, ValueError):
            ok = False
    return ok


def validate_settings(owner: Any) -> None:
    """Check every declared field of the settings dataclass ``owner`` against its declaration, in order;
    raises ``ValueError("Owner.name must be <accepted>; got <value>")`` for the first that fails."""
    for field, declared in declared_fields(owner):
        value = getattr(owner, field.name)
        if not _good(field, declared, value, owner):
            accepted = accepted_text(field, declared, owner)
            raise ValueError(f"{type(owner).__name__}.{field.name} must be {accepted}; got {value!r}")


_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def parse_setting(settings_class: type, name: str, text: str) -> Any:
    """The value of setting ``name`` from the command line's ``text`` ("0.005", "256,256", "true"),
    typed as the setting's default; ``ValueError`` naming the setting and a value of the right form. The
    range is checked by :func:`validate_settings` when the settings are made."""
    fields = {f.name: f for f, _ in declared_fields(settings_class)}
    if name not in fields:
        raise ValueError(f"{settings_class.__name__} has no setting {name!r}; its settings: {sorted(fields)}")
    default = fields[name].default
    try:
        if isinstance(default, bool):
            return _WORDS[text.strip().lower()]
        if isinstance(default, tuple):
            return tuple(int(part) for part in text.split(","))
        if isinstance(default, int):
            return int(text)
        return float(text) if isinstance(default, float) else str(text)
    except (ValueError, KeyError):
        raise ValueError(f"{name} needs a value like {default!r}; got {text!r}") from None


def parse_overrides(settings_class: type, pairs: list[str]) -> dict[str, Any]:
    """``["tau=0.005", "actor_units=256,256"]`` -> {"tau": 0.005, "actor_units": (256, 256)}, each value
    typed by :func:`parse_setting` (the command line's ``--set``)."""
    changes = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        names = [f.name for f, _ in declared_fields(settings_class)]
        if name not in names or not text:
            raise ValueError(f"--set takes NAME=VALUE with NAME one of {sorted(names)}; got {pair!r}")
        try:
            changes[name] = parse_setting(settings_class, name, text)
        except ValueError as error:
            raise ValueError(f"--set {error}") from None
    return changes


def settings_table(settings_class: type) -> str:
    """A Markdown table of the declared settings: name, command-line flag (``--set NAME=`` for a setting
    without a flag of its own), default, accepted values and the one-line description (the README's
    settings tables are this, tested to match)."""
    defaults = settings_class()
    rows = ["| setting | flag | default | accepted | what it does |", "|---|---|---|---|---|"]
    for field, declared in declared_fields(settings_class):
        value = getattr(defaults, field.name)
        shown_default = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else repr(value)
        accepted = accepted_text(field, declared, defaults)
        flag = f"`{declared.flag}`" if declared.flag else f"`--set {field.name}=`"
        rows.append(f"| `{field.name}` | {flag} | `{shown_default}` | {accepted} | {declared.doc} |")
    return "\n".join(rows) + "\n"
