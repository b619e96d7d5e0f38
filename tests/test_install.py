"""The install's promises: one TensorFlow wheel for every install, and `pip install -e .[gpu]` adding only the
CUDA libraries to it (README, "Dependencies")."""

import sys
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # requirements-dev.txt brings tomli to Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements_file(name: str) -> list[str]:
    """The requirement lines of ``name``: neither comments nor ``-r`` includes."""
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith(("#", "-r"))]


def by_name(requirements: list[str]) -> dict[str, Requirement]:
    parsed = [Requirement(text) for text in requirements]
    return {requirement.name: requirement for requirement in parsed}


def test_every_install_takes_the_tensorflow_wheel_and_never_the_cpu_only_one():
    # Two TensorFlow wheels in one environment write the same files: the base requirement must be the one the
    # gpu extra builds on, on every machine (no platform marker sends x86-64 elsewhere).
    base = by_name(pyproject()["dependencies"])
    assert "tensorflow-cpu" not in base
    assert base["tensorflow"].marker is None
    assert base["tensorflow"].extras == set()


def test_the_gpu_extra_adds_tensorflows_cuda_libraries():
    gpu = by_name(pyproject()["optional-dependencies"]["gpu"])
    assert set(gpu) == {"tensorflow"}
    assert gpu["tensorflow"].extras == {"and-cuda"}
    assert gpu["tensorflow"].specifier == by_name(pyproject()["dependencies"])["tensorflow"].specifier


def test_the_requirements_files_agree_with_pyproject():
    # make installs requirements-dev.txt (which includes requirements.txt) and the package together: a
    # requirement that differs between them would put both TensorFlow wheels in .venv.
    base = {str(requirement) for requirement in by_name(pyproject()["dependencies"]).values()}
    assert {str(requirement) for requirement in by_name(requirements_file("requirements.txt")).values()} == base
    gpu_file = (ROOT / "requirements-gpu.txt").read_text()
    assert "-r requirements.txt" in gpu_file.splitlines()
    assert by_name(requirements_file("requirements-gpu.txt")) == by_name(pyproject()["optional-dependencies"]["gpu"])
