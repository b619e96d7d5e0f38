"""The shape of the package that issue 46 set, kept by the suite: no function over 60 lines, no import
cycles, no imports inside functions but optional packages, every public function annotated. The figures
come from benchmarks/bench_code.py, which prints them (the complexity limit is ruff's C901, in make test)."""

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = runpy.run_path(str(ROOT / "benchmarks" / "bench_code.py"), run_name="bench_code")
FIGURES = CODE["measure"](ROOT)
OPTIONAL = {"ai_edge_litert.interpreter: Interpreter", "onnxruntime", "ray", "ray: tune"}
"""The optional packages (pip install -e .[export], .[sweep]) imported where they are used, so that they stay
optional."""
LOADED_BY_NAME = {
    "importlib.import_module('quadcopter.presets')",  # quadcopter.takeoff_agent, without TensorFlow until asked
    "importlib.import_module('quadcopter.cli_learning')",  # the commands that need TensorFlow
    "importlib.import_module('tensorflow')",  # the same, with its start-up lines silenced
    "importlib.import_module(module_name)",  # a learner's own task module, named on the command line
}


def test_no_function_is_longer_than_60_lines():
    name, length = FIGURES["longest"]
    assert length <= 60, f"{name} has {length} lines"


def test_imports_go_one_way():
    assert FIGURES["cycles"] == []
    inside = {what for _, _, what in FIGURES["inner_imports"]}
    assert inside <= OPTIONAL | LOADED_BY_NAME, inside - OPTIONAL - LOADED_BY_NAME


def test_every_public_function_is_annotated():
    done, total = FIGURES["annotated"]
    assert done == total, FIGURES["unannotated"]


def test_the_measure_sees_a_long_function_a_cycle_and_an_inner_import(tmp_path):
    """The checks above can fail: a checkout with each fault is measured as faulty."""
    for package in ("quadcopter", "agents"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    (tmp_path / "quadcopter" / "a.py").write_text(f"from . import b\n\n\ndef long():\n{body}\n")
    (tmp_path / "quadcopter" / "b.py").write_text("def late() -> None:\n    from . import a\n")
    figures = CODE["measure"](tmp_path)
    assert figures["longest"] == ("quadcopter.a.long", 62)
    assert figures["cycles"] == [["quadcopter.a", "quadcopter.b"]]
    assert [what for _, _, what in figures["inner_imports"]] == [".: a"]
    assert figures["annotated"] == (1, 2) and figures["unannotated"] == ["quadcopter/a.py:4 long"]
