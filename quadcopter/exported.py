"""Flying an exported policy (:mod:`quadcopter.export`): :func:`load_policy` reads policy.c (compiled here with
the system's C compiler), a LiteRT (.tflite) or ONNX file, or a SavedModel folder back as ``act(states (N, 15))
-> rotor speeds (N, 4)``, so that ``evaluate --policy FILE`` flies what would be flashed. LiteRT and ONNX need
the optional packages (``pip install -e .[export]``); without ``ai_edge_litert``, TensorFlow's own interpreter
reads .tflite files.
"""

import ctypes
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf


def compile_c(source: Path) -> ctypes.CDLL:
    """``policy.c`` (with its policy.h beside it) compiled by the system's C compiler (``cc``) into a shared
    library, loaded; ``RuntimeError`` with the compiler's message if it fails."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("flying a C policy needs a C compiler (cc or gcc) on the PATH")
    folder = Path(tempfile.mkdtemp(prefix="policy-"))
    library = folder / "policy.so"
    command = [compiler, "-O2", "-std=c99", "-shared", "-fPIC", "-o", str(library), str(source), "-lm"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    lib = ctypes.CDLL(str(library))
    lib.policy.argtypes = [ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    lib.policy.restype = None
    return lib


def _litert_interpreter(path: Path):
    """A LiteRT interpreter of ``path``: the ``ai_edge_litert`` package's (``pip install -e .[export]``), else
    TensorFlow's own ``tf.lite.Interpreter`` (deprecated in its favour, and quiet about it here)."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # optional: pip install -e .[export]
    except ImportError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_path=str(path))
    return Interpreter(model_path=str(path))


def load_policy(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """``act(states (N, 15)) -> rotor speeds (N, 4)`` of an exported policy: policy.c (compiled here),
    a .tflite or .onnx file, or a SavedModel folder. ``ValueError`` for anything else."""
    path = Path(path)
    if path.suffix == ".c":
        lib = compile_c(path)

        def act(states: np.ndarray) -> np.ndarray:
            states = np.ascontiguousarray(states, dtype=np.float32)
            actions = np.zeros((len(states), 4), np.float32)
            for row, action in zip(states, actions):
                lib.policy(
                    row.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                    action.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                )
            return actions

        return act
    if path.suffix == ".tflite":
        interpreter = _litert_interpreter(path)

        def act(states: np.ndarray) -> np.ndarray:
            states = np.asarray(states, np.float32)
            interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], states.shape)
            interpreter.allocate_tensors()
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], states)
            interpreter.invoke()
            return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

        return act
    if path.suffix == ".onnx":
        try:
            import onnxruntime  # optional: pip install -e .[export]
        except ImportError:
            raise ImportError("flying an ONNX policy needs onnxruntime: pip install -e .[export]") from None
        session = onnxruntime.InferenceSession(str(path))
        name = session.get_inputs()[0].name
        return lambda states: session.run(None, {name: np.asarray(states, np.float32)})[0]
    if path.is_dir() and (path / "saved_model.pb").exists():
        loaded = tf.saved_model.load(str(path))
        return lambda states: loaded.serve(tf.constant(np.asarray(states, np.float32))).numpy()
    raise ValueError(f"--policy takes an exported policy.c, .tflite, .onnx or SavedModel folder; got {str(path)!r}")
