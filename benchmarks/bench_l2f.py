"""Our default run against "Learning to Fly in Seconds" (RLtools, C++), one after the other on this machine.

L2F trains TD3 on a quadcopter for 300,000 steps in C++ with its matrix products in OpenBLAS; its training
benchmark has about the arithmetic of our default run (docs/benchmarks.md, "Against Learning to Fly in
Seconds"). This builds it where its sources are (once; the binary is kept in their build folder), times
its ``training_benchmark`` with one BLAS thread, then times ``python -m quadcopter train`` with the defaults
in a fresh process, and prints both wall times, their ratio and our final actor's success.

    python benchmarks/bench_l2f.py --l2f PATH [--repeats 1] [--out DIR]

PATH is a learning-to-fly source tree (github.com/arplaboratory/learning-to-fly at d07592d5) with its
``external/rl_tools`` submodule (rl-tools/rl-tools at 3a612e29) and that one's ``external/json`` (nlohmann/json
at a0c13188); building needs cmake, a C++ compiler, and the Debian packages libopenblas-dev and libboost-dev.
Without the sources the script says so and stops.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quadcopter.machine import cpu_name
from quadcopter.train_parts import device_name

BINARY = Path("build") / "src" / "training_benchmark"
"""L2F's benchmark binary, relative to its source tree."""


def build(l2f: Path) -> Path:
    """The benchmark binary of the L2F tree ``l2f``, configured and built (Release, OpenBLAS) if it is not there."""
    binary = l2f / BINARY
    if binary.exists():
        return binary
    configure = ["cmake", "-S", str(l2f), "-B", str(l2f / "build"), "-DCMAKE_BUILD_TYPE=Release"]
    subprocess.run(configure + ["-DRL_TOOLS_BACKEND_ENABLE_OPENBLAS:BOOL=ON"], check=True, capture_output=True)
    target = ["cmake", "--build", str(l2f / "build"), "--target", "training_benchmark", "-j2"]
    subprocess.run(target, check=True, capture_output=True)
    return binary


def time_l2f(binary: Path, l2f: Path) -> float:
    """Wall seconds of one L2F training benchmark (300k steps), one OpenBLAS thread."""
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    started = time.perf_counter()
    subprocess.run([str(binary.resolve())], cwd=l2f, env=environment, check=True, capture_output=True)
    return time.perf_counter() - started


def time_ours(out: Path) -> tuple[float, float]:
    """(wall seconds, final actor's success rate) of ``python -m quadcopter train`` with the defaults, a fresh
    process, into ``out``."""
    command = [sys.executable, "-m", "quadcopter", "train", "--out", str(out), "--no-progress", "--overwrite"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    return seconds, json.loads((out / "evaluation.json").read_text())["final"]["success_rate"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--l2f", type=Path, required=True, help="the learning-to-fly source tree (see above)")
    parser.add_argument("--repeats", type=int, default=1, help="pairs of runs, L2F then ours (default: 1)")
    parser.add_argument("--out", type=Path, default=None, help="our runs' folder (default: a temporary one)")
    args = parser.parse_args()
    if not (args.l2f / "CMakeLists.txt").exists() or not (args.l2f / "external" / "rl_tools" / "include").exists():
        sys.exit(f"no learning-to-fly sources with their rl_tools submodule at {args.l2f}: see --help")
    binary = build(args.l2f)
    print(
        f"# {cpu_name()}; ours on {device_name()}; {time.strftime('%Y-%m-%d')}; L2F {BINARY} (OpenBLAS, 1 thread) "
        "vs quadcopter train"
    )
    print("| pair | L2F 300k steps (s) | ours, default train (s) | ours / L2F | our final actor |")
    print("|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        for pair in range(1, args.repeats + 1):
            l2f_seconds = time_l2f(binary, args.l2f)
            ours, success = time_ours(out / f"default-{pair}")
            print(f"| {pair} | {l2f_seconds:.1f} | {ours:.1f} | {ours / l2f_seconds:.2f} | {success:.0%} |")


if __name__ == "__main__":
    main()
