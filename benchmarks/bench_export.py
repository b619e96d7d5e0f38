"""How close is each export to the Keras actor, and what does the C policy cost on this machine? Exports a
run's final actor in every format (``quadcopter/export.py``), flies each on 1,000 observations of the run's
own evaluation flights, and prints the largest difference from the Keras actor (absolute, rev/s, and
relative); then times the C ``policy()`` in a loop compiled with ``cc -O2`` (ns per call) and reports its
code size (the compiled object's text, bytes) and its weights (bytes of float32).

    python benchmarks/bench_export.py RUN      # e.g. runs/takeoff (a trained run folder)

Formats whose optional packages are missing (ONNX: pip install -e .[export]) are reported as skipped.
"""

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

import agents  # noqa: F401  (registers the actor's layers, for loading it)
from quadcopter.export import FORMATS, actor_layers, description, export_actor
from quadcopter.exported import load_policy
from quadcopter.runs import read_file
from quadcopter.task_specs import load_task
from quadcopter.train_parts import device_name

TIMING = r"""
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>
#include "policy.h"
int main(void) {
    float obs[POLICY_OBS_SIZE], out[POLICY_ACTION_SIZE], sink = 0.0f;
    const int calls = 200000;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int k = 0; k < calls; ++k) {
        for (int i = 0; i < POLICY_OBS_SIZE; ++i) obs[i] = (float)((k + i) % 17) * 0.1f - 0.8f;
        policy(obs, out);
        sink += out[0];
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double ns = ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / calls;
    printf("%.1f %f\n", ns, sink);
    return 0;
}
"""


def observations(run, count=1000):
    """The observations of the run's evaluation flights (its evaluation_flights.csv), ``count`` of them."""
    import json

    settings = read_file(run / "settings.json", json.loads)
    task = load_task(settings.get("task", "takeoff"))
    flights = pd.read_csv(run / "evaluation_flights.csv")
    physics = flights[
        ["x", "y", "z", "phi", "theta", "psi", "x_velocity", "y_velocity", "z_velocity"]
        + ["phi_velocity", "theta_velocity", "psi_velocity"]
    ].to_numpy()
    rows = np.linspace(0, len(physics) - 1, count).astype(int)
    goals = np.zeros((count, 3)) + np.asarray(task.target)
    return task.observe(physics[rows], goals).astype(np.float32), settings


def time_c(folder):
    """(ns per policy() call, text bytes of policy.o) with the system compiler at -O2."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    (folder / "timing.c").write_text(TIMING)
    subprocess.run([compiler, "-O2", "-std=c99", "-c", "policy.c", "-o", "policy.o"], cwd=folder, check=True)
    command = [compiler, "-O2", "-std=c99", "-o", "timing", "timing.c", "policy.o", "-lm"]
    subprocess.run(command, cwd=folder, check=True)
    ns = float(subprocess.run(["./timing"], cwd=folder, capture_output=True, text=True, check=True).stdout.split()[0])
    text = subprocess.run(["size", "policy.o"], cwd=folder, capture_output=True, text=True, check=True).stdout
    return ns, int(text.splitlines()[1].split()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a trained run folder")
    args = parser.parse_args()
    model = keras.models.load_model(args.run / "actor_final.keras")
    states, settings = observations(args.run)
    expected = model(states).numpy()
    print(f"# {device_name()}, {time.strftime('%Y-%m-%d')}; {args.run}/actor_final.keras, 1,000 observations")
    print("| format | largest difference (rev/s) | relative to the rotor speed | relative to the range (900 rev/s) |")
    print("|---|---:|---:|---:|")
    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    for export_format in FORMATS:
        info = description(args.run, settings, "actor_final.keras", export_format)
        try:
            paths = export_actor(model, export_format, folder / export_format, info)
            got = load_policy(paths[0])(states)
        except ImportError as error:
            print(f"| {export_format} | skipped: {error} | | |")
            continue
        difference = np.abs(got - expected)
        relative = (difference / np.abs(expected)).max()
        print(f"| {export_format} | {difference.max():.2e} | {relative:.2e} | {difference.max() / 900.0:.2e} |")
    ns, text_bytes = time_c(folder / "c")
    dense, _, _ = actor_layers(model)
    weights = sum(kernel.size + bias.size for kernel, bias, _ in dense) * 4
    print(
        f"\nC policy(): {ns:.0f} ns per call (cc -O2, one core); code and constants {text_bytes:,} bytes (text of "
        f"policy.o), of which weights {weights:,} bytes of float32"
    )


if __name__ == "__main__":
    main()
