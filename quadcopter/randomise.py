"""Domain randomisation: every training episode flies a slightly different quadcopter (``train --randomise SPEC``).

A policy that learned one exact body can fail on the real one, whose mass, inertia, propellers and latency
are never quite the simulated ones. With randomisation each episode draws its own body and latency when it
starts, so the actor learns to fly all of them. It is off by default.

SPEC is ``default`` (the preset below) or comma-separated ``KEY=VALUE`` items; keys left out are not
randomised (the noise is SIGMA m on positions, rad on angles, m/s on velocities and rad/s on body rates, and
only the agent's observation has it: rewards, ends and success see the true state):

| key | value | what each episode draws | ``default`` |
|---|---|---|---|
| ``mass`` | LOW:HIGH, factors in [0.1, 10] | the airframe's mass times a factor, uniform in [LOW, HIGH] | 0.75:1.25 |
| ``inertia`` | LOW:HIGH, factors in [0.1, 10] | its three moments of inertia times one factor | 0.75:1.25 |
| ``thrust`` | LOW:HIGH, factors in [0.1, 10] | its rotors' thrust coefficient times a factor | 0.9:1.1 |
| ``delay`` | LOW:HIGH, integers in [0, 2] | each action applied that many agent steps late | 0:2 |
| ``noise`` | SIGMA in [0, 1] | Gaussian noise of SIGMA on the observed state, in its SI units | 0.005 |
| ``history`` | K, an integer in [0, 2] | not drawn: the agent also observes the K actions it chose last | 2 |

Why the preset's ranges (docs/decisions.md has the measurements): the robustness figures fly bodies of
0.8 and 1.2 times the mass and inertia, so training covers a little more (0.75-1.25), leaving the edges of
the evaluated range inside it rather than at its rare extremes; thrust +-10% (the issue's example range)
stands for worn or replaced propellers, and it moves the hover speed, which the actor must find from the
altitude error; one or two agent steps (60-120 ms at three 20 ms simulator steps per action) are the
delays the evaluation flies, generous for a radio link and a state estimator; 0.005 (5 mm, 5 mrad) is
above a motion-capture system's millimetre and far below GPS's metres, and measured against none.

Why the agent sees its last actions (``history``): with its actions applied one or two steps late, what the
quadcopter does next depends on commands the observation does not show, and a policy that cannot see them
does not learn to fly with the delay (docs/decisions.md: with ``delay=2:2`` alone DDPG never left the ground,
with ``delay=0:2`` its actor fell at delays 1 and 2). With the commands still on their way in the
observation, the delayed problem is a Markov one again, as the delay-randomised policies of "Learning to Fly
in Seconds" see theirs. The history holds the commanded actions in the actor's normalised units [-1, 1]
(oldest first), zeros at the start of an episode; a flight controller running the policy keeps the same.

A delayed action works as :func:`quadcopter.evaluation.delayed` does in the evaluation: an episode's first
action is also applied for its first ``delay`` steps. The randomised bodies need the rigid-body dynamics
(the ``udacity`` dynamics fly the original's constants only).

In a Udacity-style loop of your own, :class:`~quadcopter.vector_task.ScalarTask` randomises its episodes:
``ScalarTask(load_task("takeoff"), dynamics="rigid_body", randomisation=parse_randomise("default"))`` (the
history is then the loop's to append: :class:`ActionHistoryPolicy` does it for a policy of numpy arrays).

The functions take the numpy or TensorFlow namespace ``xp`` of :mod:`quadcopter.task_specs`, so the numpy
path (:class:`~quadcopter.vector_task.VectorTask`) and the fused path (:class:`~quadcopter.fused.FusedTakeoff`)
draw and apply the same things.
"""

import dataclasses
from typing import Any

import numpy as np

from .dynamics import Airframe, check_airframe

MAX_DELAY_STEPS = 2
"""The longest action delay training draws, in agent steps (the pending actions each episode keeps)."""
FACTOR_RANGE = (0.1, 10.0)
"""The factors a spec may name, as :meth:`~quadcopter.dynamics.Airframe.scaled` accepts them."""
MAX_NOISE = 1.0
"""The largest observation noise a spec may name (SI units: m, rad, m/s, rad/s)."""


@dataclasses.dataclass(frozen=True)
class Randomisation:
    """What each training episode draws (see the module's table); ``(1.0, 1.0)``, ``(0, 0)`` and 0 draw nothing."""

    mass: tuple[float, float] = (1.0, 1.0)
    inertia: tuple[float, float] = (1.0, 1.0)
    thrust: tuple[float, float] = (1.0, 1.0)
    delay: tuple[int, int] = (0, 0)
    noise: float = 0.0
    history: int = 0

    @property
    def changes_body(self) -> bool:
        return any(getattr(self, name) != (1.0, 1.0) for name in ("mass", "inertia", "thrust"))

    @property
    def delays(self) -> bool:
        return self.delay != (0, 0)

    @property
    def anything(self) -> bool:
        return self.changes_body or self.delays or self.noise > 0 or self.history > 0


PRESETS = {
    "off": Randomisation(),
    "default": Randomisation(
        mass=(0.75, 1.25), inertia=(0.75, 1.25), thrust=(0.9, 1.1), delay=(0, 2), noise=0.005, history=2
    ),
}
"""The named specs ``--randomise`` takes."""

KEYS = ("mass", "inertia", "thrust", "delay", "noise", "history")
ACCEPTED = (
    f"one of {list(PRESETS)}, or KEY=VALUE items joined by commas: mass, inertia and thrust take LOW:HIGH "
    f"factors in [{FACTOR_RANGE[0]:g}, {FACTOR_RANGE[1]:g}], delay LOW:HIGH integers in [0, {MAX_DELAY_STEPS}], "
    f"noise a number in [0, {MAX_NOISE:g}], history an integer in [0, {MAX_DELAY_STEPS}] "
    "(e.g. mass=0.8:1.2,delay=0:2,history=2)"
)


def parse_randomise(spec: str) -> Randomisation:
    """``"default"``, ``"off"`` or ``"mass=0.8:1.2,delay=0:2,noise=0.01"`` -> a :class:`Randomisation`;
    ``ValueError`` naming the bad item and what is accepted (:data:`ACCEPTED`)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"--randomise takes {ACCEPTED}; got {spec!r}")
    if spec in PRESETS:
        return PRESETS[spec]
    values: dict[str, Any] = {}
    for item in spec.split(","):
        key, _, value = item.strip().partition("=")
        if key not in KEYS or key in values:
            raise ValueError(f"--randomise {item!r}: the keys are {list(KEYS)}, each once; it takes {ACCEPTED}")
        values[key] = _parse_value(key, value)
    return Randomisation(**values)


def spec_text(randomisation: Randomisation) -> str:
    """The spec that :func:`parse_randomise` reads back as ``randomisation``, every item written out (``"off"``
    for none): what a run saves, so that it keeps its meaning if a preset changes."""
    items = [
        f"{name}={low:g}:{high:g}"
        for name in ("mass", "inertia", "thrust", "delay")
        for low, high in [getattr(randomisation, name)]
        if (low, high) != Randomisation.__dataclass_fields__[name].default
    ]
    items += [f"noise={randomisation.noise:g}"] if randomisation.noise else []
    items += [f"history={randomisation.history}"] if randomisation.history else []
    return ",".join(items) or "off"


def _parse_value(key: str, text: str) -> Any:
    try:
        if key == "noise":
            noise = float(text)
            if not 0.0 <= noise <= MAX_NOISE:
                raise ValueError
            return noise
        if key == "history":
            history = int(text)
            if not 0 <= history <= MAX_DELAY_STEPS:
                raise ValueError
            return history
        low_text, high_text = text.split(":")
        if key == "delay":
            low, high = int(low_text), int(high_text)
            if not 0 <= low <= high <= MAX_DELAY_STEPS:
                raise ValueError
            return (low, high)
        factors = float(low_text), float(high_text)
        if not FACTOR_RANGE[0] <= factors[0] <= factors[1] <= FACTOR_RANGE[1]:
            raise ValueError
        return factors
    except ValueError:
        raise ValueError(f"--randomise {key}={text!r} is out of range; it takes {ACCEPTED}") from None


def check_dynamics(randomisation: Randomisation, dynamics: str) -> Randomisation:
    """``ValueError`` if ``randomisation`` changes the body and ``dynamics`` cannot (the ``udacity`` dynamics
    fly the original's constants only); else the randomisation."""
    if randomisation.changes_body and dynamics != "rigid_body":
        raise ValueError(
            f"randomising mass, inertia or thrust needs dynamics='rigid_body' (the {dynamics!r} dynamics fly fixed "
            "constants); randomise only delay and noise there, or give --dynamics rigid_body"
        )
    return randomisation


# --- Drawing (per episode) ---


def draw_factors(randomisation: Randomisation, draw: Any, n: int, xp: Any) -> Any:
    """(n, 3) float64 factors on (mass, inertia, thrust coefficient), uniform in their ranges; ``draw`` is a
    :class:`~quadcopter.task_specs.NumpyDraw` or :class:`~quadcopter.tensor_task.TensorDraw`."""
    columns = [draw.uniform(*getattr(randomisation, name), (n, 1)) for name in ("mass", "inertia", "thrust")]
    return xp.concatenate(columns, axis=1)


def draw_delays(randomisation: Randomisation, draw: Any, n: int, xp: Any) -> Any:
    """(n,) float64 whole agent steps of delay, uniform over the integers in ``randomisation.delay``."""
    low, high = randomisation.delay
    return xp.minimum(xp.floor(draw.uniform(low, high + 1, (n,))), float(high))  # high + 1 itself: never, but safe


def observation_noise(randomisation: Randomisation, draw: Any, n: int) -> Any:
    """(n, 12) float64 Gaussian noise of standard deviation ``randomisation.noise`` for the physics state."""
    return draw.normal(randomisation.noise, (n, 12))


# --- Applying ---


def bodies(body: Airframe, factors: Any) -> Airframe:
    """``body`` with one mass, inertia and thrust coefficient per row: ``factors`` (N, 3) as :func:`draw_factors`
    gives. The step functions of :mod:`quadcopter.dynamics` broadcast these (N,) fields row by row."""
    mass, inertia, thrust = factors[:, 0], factors[:, 1], factors[:, 2]
    return dataclasses.replace(
        body,
        mass=body.mass * mass,
        inertia=tuple(moment * inertia for moment in body.inertia),
        thrust_coefficient=body.thrust_coefficient * thrust,
    )


def delay_actions(speeds: Any, pending: Any, fresh: Any, delays: Any, xp: Any) -> tuple[Any, Any]:
    """Apply rotor speeds (N, 4) ``delays`` (N,) agent steps late.

    ``pending`` (N, 2, 4) holds each row's actions of the two steps before (oldest first); ``fresh`` (N,) bool
    marks rows whose episode starts with this action (their pending actions become this one). Returns
    ``(applied (N, 4), pending after this step)``.
    """
    pending = xp.where(fresh[:, None, None], xp.stack([speeds, speeds], axis=1), pending)
    applied = xp.where((delays == 0)[:, None], speeds, xp.where((delays == 1)[:, None], pending[:, 1], pending[:, 0]))
    return applied, xp.stack([pending[:, 1], speeds], axis=1)


def describe(randomisation: Randomisation) -> str:
    """One line for the run's log: what is randomised."""
    if not randomisation.anything:
        return "no randomisation"
    parts = [
        f"{name} x{low:g}-{high:g}"
        for name in ("mass", "inertia", "thrust")
        for low, high in [getattr(randomisation, name)]
        if (low, high) != (1.0, 1.0)
    ]
    if randomisation.delays:
        parts.append(f"delay {randomisation.delay[0]}-{randomisation.delay[1]} steps")
    if randomisation.noise:
        parts.append(f"observation noise {randomisation.noise:g}")
    if randomisation.history:
        parts.append(f"the agent observes its last {randomisation.history} actions")
    return ", ".join(parts)


# --- The agent's own last actions in its observation ---


def with_history(states: Any, history: Any, xp: Any) -> Any:
    """States (N, S) with the history (N, K, 4) of normalised actions appended: (N, S + 4 K); K = 0: the states."""
    _, k, width = history.shape
    if not k:
        return states
    return xp.concatenate([states, xp.reshape(history, (-1, k * width))], axis=1)


def pushed(history: Any, actions: Any, xp: Any) -> Any:
    """The history (N, K, 4) after the normalised actions (N, 4): the oldest dropped, ``actions`` last (K = 0:
    the empty history itself)."""
    if not history.shape[1]:
        return history
    return xp.concatenate([history[:, 1:], actions[:, None, :]], axis=1)


class ActionHistoryPolicy:
    """A policy of the task's states (N, S) made from ``act(states (N, S + 4 history)) -> rotor speeds (N, 4)``,
    an actor trained seeing its last ``history`` actions: it appends the last actions it returned (normalised
    from [low, high] rev/s to [-1, 1]; zeros before the first), as training showed them. The evaluation's
    flights call :func:`restarted` when they start, so each flight's history starts empty."""

    def __init__(self, act: Any, history: int, low: float, high: float) -> None:
        self.act, self.history, self.low, self.high = act, int(history), float(low), float(high)
        self.past: np.ndarray | None = None

    def __call__(self, states: Any) -> Any:
        states = np.asarray(states, dtype=np.float32)
        if self.past is None or len(self.past) != len(states):
            self.past = np.zeros((len(states), self.history, 4), np.float32)
        speeds = np.asarray(self.act(with_history(states, self.past, np)))
        normalised = (speeds - self.low) / (self.high - self.low) * 2.0 - 1.0
        self.past = pushed(self.past, normalised.astype(np.float32), np)
        return speeds

    def restarted(self) -> "ActionHistoryPolicy":
        return ActionHistoryPolicy(self.act, self.history, self.low, self.high)


def restarted(act: Any) -> Any:
    """``act`` ready for a new flight: a fresh :class:`ActionHistoryPolicy` (empty history), or ``act`` itself."""
    return act.restarted() if isinstance(act, ActionHistoryPolicy) else act


def run_policy(act: Any, settings: Any) -> Any:
    """The policy of a run's actor ``act``: an :class:`ActionHistoryPolicy` if the run's agent saw its last
    actions (``settings``: its TrainSettings or settings.json's dict), else ``act``."""
    get = settings.get if isinstance(settings, dict) else lambda name, default: getattr(settings, name, default)
    history = parse_randomise(get("randomise", "off")).history
    if not history:
        return act
    body = check_airframe(get("dynamics", "udacity"), get("airframe", "udacity"))
    return ActionHistoryPolicy(act, history, body.min_rotor_speed, body.max_rotor_speed)
