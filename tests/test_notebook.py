"""The notebook runs top to bottom in its quick mode (QUADCOPTER_SMOKE=1) and shows what it promises."""

import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from quadcopter.presets import TAKEOFF_CONFIG

pytestmark = pytest.mark.slow  # left out of make test-quick: the notebook trains for about 2 minutes

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "Quadcopter_Project.ipynb"


def outputs_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    # A copy in a folder of its own: the notebook writes its run next to itself (runs/notebook-smoke).
    work = tmp_path_factory.mktemp("nb") / "notebooks"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    notebook = nbformat.read(work / NOTEBOOK.name, as_version=4)
    saved = {name: os.environ.get(name) for name in ("QUADCOPTER_SMOKE", "PYTHONPATH")}
    os.environ["QUADCOPTER_SMOKE"] = "1"  # the kernel inherits the environment
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), saved["PYTHONPATH"] or ""])
    try:
        started = time.perf_counter()
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
        ).execute()
        seconds = time.perf_counter() - started
    finally:
        for name, value in saved.items():  # later tests see the environment as it was
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return notebook, seconds, work.parent


def test_the_quick_run_finishes_without_errors(executed):
    # No wall-clock assertion (the machine's load is not the notebook's fault); the time is printed
    # for `pytest -s`.
    notebook, seconds, _ = executed
    print(f"the quick run took {seconds:.0f} s")
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []


def test_it_shows_the_gradient_proof_and_the_plots(executed):
    notebook, _, work = executed
    code = [c for c in notebook.cells if c.cell_type == "code"]
    proof = next(c for c in code if "through_critic" in c.source)
    table = proof.outputs[-1]["data"]["text/plain"]
    assert "ratio" in table and "relative_error" in table
    ratios = [float(line.split()[-2]) for line in table.splitlines()[1:]]
    assert len(ratios) == 6 and all(abs(r - 4.0) < 1e-4 for r in ratios)  # 3 kernels + 3 biases, all x4
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert images == 8  # panels (3 flights), 3-D paths (2), the reward curve, the overlaid flights, LowHover's
    own_task = outputs_text(next(c for c in code if "own_settings" in c.source))
    assert "LowHover: trained for" in own_task and "success" in own_task
    assert (work / "runs" / "notebook-smoke-lowhover" / "evaluation.json").exists()
    assert (work / "runs" / "mytasks.py").exists()  # the task is a module of the learner's, as on the CLI
    assert "smoke run" in outputs_text(code[0])
    run = work / "runs" / "notebook-smoke"
    for name in (
        "episodes.csv",
        "actor.keras",
        "evaluation.json",
        "flight.csv",
        "evaluation_flights.csv",
        "reward_curve.png",
        "flight_path.png",
    ):
        assert (run / name).exists(), name
    reflection_numbers = outputs_text(next(c for c in code if "Success among the training" in c.source))
    assert "Evaluation of the final actor (no noise): success" in reflection_numbers
    assert "The selected actor flown for 60 s, six times its episodes, settles" in reflection_numbers
    noise_check = outputs_text(next(c for c in code if "with_training_noise" in c.source)).splitlines()
    noise = TAKEOFF_CONFIG.noise_sigma  # the cell flies with the training's noise
    assert [line.split(":")[0] for line in noise_check] == ["without noise", f"with noise {noise}"]
    assert "nan" not in " ".join(noise_check)


def test_the_committed_notebook_holds_the_outputs_of_a_full_run():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)  # every cell was run, in order
    assert "full run" in outputs_text(code[0])
    assert any("success rate" in outputs_text(c) for c in code)
