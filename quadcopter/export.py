"""A trained actor in the forms a flight controller or another program can run: C, LiteRT, ONNX, SavedModel.

``python -m quadcopter export RUN --format c|tflite|onnx|savedmodel`` writes into ``RUN/export/`` (or
``--out``) the actor (``--actor final``, the actor as training left it, or ``selected``) and ``policy.json``
beside it: the observation's layout and scaling, the action's scaling, the body and dynamics, the task and
the run. Each form computes the same function: observation (15 float32 values) -> 4 rotor speeds (rev/s).

* ``c``: ``policy.c`` and ``policy.h``, dependency-free C99 (``<math.h>`` for ``tanhf`` only): the weights as
  ``static const float`` arrays, no dynamic memory, ``void policy(const float obs[POLICY_OBS_SIZE], float
  rotor_speeds[4])`` (the action scaling included), and for the built-in tasks ``void observe(const float
  state[12], const float goal[3], float obs[POLICY_OBS_SIZE])``, the observation from the physics state
  (the observation's scaling included);
* ``tflite`` (LiteRT), ``onnx`` and ``savedmodel``: Keras' own ``Model.export``; ONNX needs the optional
  packages (``pip install -e .[export]``).

:func:`quadcopter.exported.load_policy` reads any of them back as ``act(states (N, 15)) -> rotor speeds (N, 4)``
(C compiled on the fly with the system's C compiler), so ``evaluate --policy FILE`` flies what would be flashed.
This module needs numpy only: the Keras model to export is handed to it.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np

from . import dynamics as physics
from .randomise import parse_randomise
from .task_specs import TASKS
from .tasks import (
    FINE_POSITION_SCALE,
    OBSERVATION_VERSION,
    POSITION_SCALE,
    RATE_SCALE,
    TAKEOFF_RUNTIME,
    VELOCITY_SCALE,
)

FORMATS = ("c", "tflite", "onnx", "savedmodel")
"""The forms ``export`` writes."""
FILES = {"c": "policy.c", "tflite": "policy.tflite", "onnx": "policy.onnx", "savedmodel": "policy_savedmodel"}
"""The file (or folder, for the SavedModel) each form writes; C also writes policy.h."""


def actor_layers(model: Any) -> tuple[list, Any, Any]:
    """The saved actor's arithmetic (a ``keras.Model``, by its layers' kinds, so that this module needs no
    TensorFlow): ``([(kernel (in, out), bias (out,), activation), ...], low (4,), high (4,))`` from its Dense
    layers and its scaling layer. ``ValueError`` for a model of another shape."""
    dense, low, high = [], None, None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            kernel, bias = (np.asarray(w, dtype=np.float32) for w in layer.get_weights())
            dense.append((kernel, bias, layer.get_config()["activation"]))
        elif hasattr(layer, "low") and hasattr(layer, "high"):
            low, high = np.asarray(layer.low, np.float32), np.asarray(layer.high, np.float32)
        elif kind != "InputLayer":
            raise ValueError(f"export handles Dense layers and the action scaling; the actor has {layer.name!r}")
    activations = [activation for _, _, activation in dense]
    if low is None or not dense or activations != ["relu"] * (len(dense) - 1) + ["tanh"]:
        raise ValueError(f"export needs ReLU hidden layers, a tanh output and the action scaling; got {activations}")
    return dense, low, high


def _c_float(value: float) -> str:
    """A C float literal that reads back as the same float32: 9 significant digits, always with a point or an
    exponent (``900.f``, not ``900f``)."""
    text = f"{float(value):.9g}"
    return text + ("f" if ("." in text or "e" in text or "n" in text) else ".f")


def _c_array(name: str, values: np.ndarray) -> str:
    """``static const float NAME[n] = {...};`` with every float written to 9 significant digits (exact)."""
    numbers = [_c_float(v) for v in np.ravel(values)]
    rows = [", ".join(numbers[i : i + 8]) for i in range(0, len(numbers), 8)]
    body = ",\n    ".join(rows)
    return f"static const float {name}[{len(numbers)}] = {{\n    {body}\n}};\n"


C_OBSERVE = """
/* The observation (POLICY_OBS_SIZE values) from the physics state and the goal, as the tasks make it:
   state = x, y, z (m), phi, theta, psi (rad), vx, vy, vz (m/s, earth frame), three angular rates (rad/s);
   goal = x, y, z (m). error = position - goal; obs = error / {position} m, velocity / {velocity} m/s,
   the angles wrapped to [-pi, pi), rates / {rate} rad/s, error / {fine} m clipped to [-1, 1]. */
void observe(const float state[12], const float goal[3], float obs[POLICY_OBS_SIZE]) {{
    const float pi = 3.14159265358979f;
    for (int i = 0; i < 3; ++i) {{
        float error = state[i] - goal[i];
        float fine = error / {fine}f;
        obs[i] = error / {position}f;
        obs[3 + i] = state[6 + i] / {velocity}f;
        float angle = fmodf(state[3 + i] + pi, 2.0f * pi);
        obs[6 + i] = (angle < 0.0f ? angle + 2.0f * pi : angle) - pi;
        obs[9 + i] = state[9 + i] / {rate}f;
        obs[12 + i] = fine < -1.0f ? -1.0f : (fine > 1.0f ? 1.0f : fine);
    }}{resting}
}}
"""
C_RESTING = """
    obs[15] = state[2] <= 0.0f ? 1.0f : 0.0f;  /* the landing's resting flag: on the ground (a landing detector) */"""


def c_source(dense: list, low: np.ndarray, high: np.ndarray, observe: bool, resting: bool = False) -> tuple[str, str]:
    """The text of policy.h and policy.c for the network ``dense`` (see :func:`actor_layers`); ``observe``: with
    the built-in tasks' ``observe()``, ``resting``: the landing's resting flag in it."""
    obs_size, widths = dense[0][0].shape[0], [bias.shape[0] for _, bias, _ in dense]
    header = (
        "/* A trained actor (python -m quadcopter export): observation -> rotor speeds, rev/s. */\n"
        "#ifndef QUADCOPTER_POLICY_H\n#define QUADCOPTER_POLICY_H\n\n"
        f"#define POLICY_OBS_SIZE {obs_size}\n#define POLICY_ACTION_SIZE {widths[-1]}\n\n"
        "void policy(const float obs[POLICY_OBS_SIZE], float rotor_speeds[POLICY_ACTION_SIZE]);\n"
        + ("void observe(const float state[12], const float goal[3], float obs[POLICY_OBS_SIZE]);\n" if observe else "")
        + "\n#endif\n"
    )
    parts = ['#include <math.h>\n\n#include "policy.h"\n\n']
    for i, (kernel, bias, _) in enumerate(dense):
        parts.append(f"/* layer {i}: {kernel.shape[0]} -> {kernel.shape[1]}, kernel row-major (in, out) */\n")
        parts.append(_c_array(f"KERNEL_{i}", kernel) + _c_array(f"BIAS_{i}", bias) + "\n")
    parts.append(_c_array("ACTION_LOW", low) + _c_array("ACTION_HIGH", high) + "\n")
    parts.append(
        "/* out = act(in @ kernel + bias), in of n values, out of m; act is ReLU, or tanh on the last layer. */\n"
        "static void dense(const float *in, int n, const float *kernel, const float *bias, int m, int relu,\n"
        "                  float *out) {\n"
        "    for (int j = 0; j < m; ++j) out[j] = bias[j];\n"
        "    for (int i = 0; i < n; ++i) {  /* row by row: the kernel is read in order */\n"
        "        for (int j = 0; j < m; ++j) out[j] += in[i] * kernel[i * m + j];\n"
        "    }\n"
        "    for (int j = 0; j < m; ++j) out[j] = relu ? (out[j] > 0.0f ? out[j] : 0.0f) : tanhf(out[j]);\n"
        "}\n\n"
    )
    widest = max(widths)
    lines = [
        "void policy(const float obs[POLICY_OBS_SIZE], float rotor_speeds[POLICY_ACTION_SIZE]) {",
        f"    float a[{widest}], b[{widest}];  /* the layers' outputs, in turn */",
    ]
    source = "obs"
    for i, (kernel, _, activation) in enumerate(dense):
        target = "ab"[i % 2]
        relu = 1 if activation == "relu" else 0
        n, m = kernel.shape
        lines.append(f"    dense({source}, {n}, KERNEL_{i}, BIAS_{i}, {m}, {relu}, {target});")
        source = target
    lines += [
        "    for (int j = 0; j < POLICY_ACTION_SIZE; ++j) {  /* [-1, 1] -> [low, high] rev/s */",
        f"        rotor_speeds[j] = ACTION_LOW[j] + ({source}[j] + 1.0f) * 0.5f * (ACTION_HIGH[j] - ACTION_LOW[j]);",
        "    }",
        "}",
    ]
    parts.append("\n".join(lines) + "\n")
    if observe:
        parts.append(
            C_OBSERVE.format(
                position=POSITION_SCALE,
                velocity=VELOCITY_SCALE,
                rate=RATE_SCALE,
                fine=FINE_POSITION_SCALE,
                resting=C_RESTING if resting else "",
            )
        )
    return header, "".join(parts)


def description(run: Path | None, settings: dict, actor_file: str, export_format: str) -> dict:
    """What ``policy.json`` says about the export: observation and action, body, task, run."""
    task = settings.get("task", "takeoff")
    body = physics.airframe(settings.get("airframe", "udacity"))
    history = parse_randomise(settings.get("randomise", "off")).history
    task_size = 16 if task == "land" else 15
    return {
        "format": export_format,
        "file": FILES[export_format],
        "run": None if run is None else str(run),
        "actor": actor_file,
        "task": task,
        "dynamics": settings.get("dynamics", "udacity"),
        "airframe": body.name,
        "action_repeat": settings.get("action_repeat", 3),
        "runtime": settings.get("runtime", TAKEOFF_RUNTIME),
        "randomise": settings.get("randomise", "off"),
        "observation_version": settings.get("observation_version", OBSERVATION_VERSION),
        "observation": {
            "size": task_size + 4 * history,
            "layout": "error = position - goal; [error / 2.5 m (3), velocity / 2 m/s (3), roll, pitch, yaw wrapped to "
            "[-pi, pi) (3), angular rates / 5 rad/s (3), error / 0.2 m clipped to [-1, 1] (3)]"
            + (" + [1 while resting on the ground, else 0]" if task == "land" else "")
            + (
                f" + [the policy's last {history} actions, oldest first, each 4 rotor speeds n mapped to "
                "2 (n - low) / (high - low) - 1; zeros before its first] (observe() fills the part before them)"
                if history
                else ""
            ),
            "action_history": history,
            "scales": {
                "position_m": POSITION_SCALE,
                "velocity_m_s": VELOCITY_SCALE,
                "rate_rad_s": RATE_SCALE,
                "fine_position_m": FINE_POSITION_SCALE,
            },
            "built_in": task in TASKS,
        },
        "action": {
            "size": 4,
            "unit": "rev/s",
            "low": body.min_rotor_speed,
            "high": body.max_rotor_speed,
            "from_tanh": "low + (y + 1) / 2 (high - low)",
        },
        "body": {
            "airframe": body.name,
            "mass_kg": body.mass,
            "arm_length_m": body.arm_length,
            "propeller_diameter_m": body.propeller_size,
            "moments_of_inertia_kg_m2": list(body.inertia),
            "thrust_coefficient": body.thrust_coefficient,
            "hover_rotor_speed_rev_s": body.hover_rotor_speed(),
            "max_rotor_speed_rev_s": body.max_rotor_speed,
        },
    }


def export_actor(model: Any, export_format: str, out: Path, info: dict) -> list[Path]:
    """Write ``model`` (a saved actor) as ``export_format`` into the folder ``out``, with policy.json; returns
    the paths written. ``ValueError`` for an unknown format or files that are there already (nothing is
    replaced); ``ImportError`` naming the extra to install when ONNX's packages are missing."""
    if export_format not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}; got {export_format!r}")
    paths = [out / FILES[export_format], out / "policy.json"] + ([out / "policy.h"] if export_format == "c" else [])
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise ValueError(f"export would replace {', '.join(existing)}: give another --out, or remove them")
    if export_format == "onnx":
        for package in ("tf2onnx", "onnx"):
            try:
                __import__(package)
            except ImportError:
                raise ImportError(
                    f"--format onnx needs the package {package!r}: pip install -e .[export] (or pip install "
                    "tf2onnx onnx)"
                ) from None
    out.mkdir(parents=True, exist_ok=True)
    if export_format == "c":
        observation = info["observation"]
        header, source = c_source(*actor_layers(model), observe=observation["built_in"], resting=info["task"] == "land")
        paths[2].write_text(header)
        paths[0].write_text(source)
    else:
        keras_format = {"tflite": "litert", "onnx": "onnx", "savedmodel": "tf_saved_model"}[export_format]
        model.export(str(paths[0]), format=keras_format, verbose=False)
    paths[1].write_text(json.dumps(info, indent=2) + "\n")
    return paths
