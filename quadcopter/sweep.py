"""Sweeps of training settings on Ray Tune: ``python -m quadcopter sweep CONFIG`` (``pip install -e .[sweep]``).

Ray Tune schedules the trials (on this machine, or on a Ray cluster with ``--address``); each trial is one
``train`` run with its own run folder, so everything a run gives (its CSVs, plots, actors, ``evaluate``)
works on each trial. At the end the sweep writes ``sweep.csv`` (one row per trial: the settings varied, the
seed, every metric of :data:`METRICS`) and ``sweep.png`` (the metric against each varied setting, per seed
and the mean).

CONFIG is a TOML file::

    task = "takeoff"            # the task every trial learns (default: takeoff)
    seeds = [0, 1, 2]           # each combination is trained once per seed
    metric = "final_success"    # the metric the plot shows and Ray Tune reports as best (METRICS)
    samples = 1                 # draws of each [sample] setting (default 1)

    [settings]                  # fixed for every trial: TrainSettings and DDPGConfig fields (README tables)
    dynamics = "rigid_body"

    [vary]                      # each value is tried (a grid); without [vary] and [sample], the seeds alone
    tau = [0.001, 0.005]

    [sample]                    # drawn ``samples`` times: uniform in [low, high], or log-uniform
    actor_lr = { low = 1e-5, high = 1e-3, log = true }

Folders: ``OUT/trials/NAME`` for the runs (NAME from the varied values and the seed) and ``OUT/ray`` for Ray
Tune's own state. ``--resume`` continues a sweep that was stopped: Ray Tune restores its trials, and a trial
whose run folder holds a stopped run resumes it (``train --resume``). On a cluster, ``OUT`` must be storage
that every machine sees at the same path (docs/sweeps.md).
"""

import dataclasses
import importlib.util
import re
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from agents.checks import declared_fields
from agents.config import DDPGConfig

from .presets import takeoff_config
from .runs import Run, finish_run
from .settings import TrainSettings
from .training import train

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as a package (pip install -e .[sweep] brings it)
    import tomli as tomllib  # type: ignore[no-redef]

METRICS = {
    "final_success": ("final", "success_rate"),
    "final_long_hold": ("final", "long_hold_success_rate"),
    "final_return": ("final", "mean_return"),
    "selected_success": ("selected", "success_rate"),
    "selected_long_hold": ("selected", "long_hold_success_rate"),
}
"""What a trial reports, from its evaluation (evaluation.json): {name: (actor, summary key)}."""
TOP_KEYS = {"task", "seeds", "metric", "samples", "settings", "vary", "sample"}
INSTALL = "sweep runs its trials on Ray Tune, which is not installed: pip install -e .[sweep]"


@dataclasses.dataclass
class SweepConfig:
    """A sweep's CONFIG file, read and checked (see the module's docstring)."""

    task: str
    seeds: list[int]
    metric: str
    samples: int
    settings: dict[str, Any]
    vary: dict[str, list[Any]]
    sample: dict[str, dict[str, Any]]

    @property
    def varied(self) -> list[str]:
        return list(self.vary) + list(self.sample)


def _fields(settings_class: type) -> set[str]:
    return {field.name for field, _ in declared_fields(settings_class)}


def read_config(path: Path) -> SweepConfig:
    """The sweep in the TOML file ``path``; ``ValueError`` naming what is wrong, before anything runs."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"sweep: cannot read {path}: {error}") from None
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise ValueError(f"sweep {path}: unknown keys {sorted(unknown)}; a sweep takes {sorted(TOP_KEYS)}")
    config = SweepConfig(
        task=raw.get("task", "takeoff"),
        seeds=raw.get("seeds", [0]),
        metric=raw.get("metric", "final_success"),
        samples=raw.get("samples", 1),
        settings=dict(raw.get("settings", {})),
        vary={
            name: list(values) if isinstance(values, list) else values for name, values in raw.get("vary", {}).items()
        },
        sample=dict(raw.get("sample", {})),
    )
    _check(config, path)
    return config


def _check(config: SweepConfig, path: Path) -> None:
    seeds = config.seeds
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and s >= 0 for s in seeds)):
        raise ValueError(f"sweep {path}: seeds must be a list of integers >= 0; got {seeds!r}")
    if config.metric not in METRICS:
        raise ValueError(f"sweep {path}: metric must be one of {list(METRICS)}; got {config.metric!r}")
    if not (isinstance(config.samples, int) and 1 <= config.samples <= 1000):
        raise ValueError(f"sweep {path}: samples must be an integer in [1, 1000]; got {config.samples!r}")
    known = _fields(TrainSettings) | _fields(DDPGConfig)
    for section in ("settings", "vary", "sample"):
        names = set(getattr(config, section))
        wrong = names - known if section == "settings" else names - (known - {"seed", "task"})
        if wrong:
            raise ValueError(f"sweep {path}: [{section}] names no setting {sorted(wrong)}; settings: {sorted(known)}")
    _check_values(config, path)
    for values in _corners(config):  # every value must make valid settings, before any trial starts
        trial_settings(config, values)


def _check_values(config: SweepConfig, path: Path) -> None:
    for name, values in config.vary.items():
        if not (isinstance(values, list) and values):
            raise ValueError(f"sweep {path}: [vary] {name} must be a non-empty list of values; got {values!r}")
    for name, spec in config.sample.items():
        if not (isinstance(spec, dict) and set(spec) <= {"low", "high", "log"} and {"low", "high"} <= set(spec)):
            raise ValueError(f"sweep {path}: [sample] {name} must be {{low = ..., high = ..., log = true|false}}")
        if not (0 < spec["low"] < spec["high"] if spec.get("log") else spec["low"] < spec["high"]):
            raise ValueError(f"sweep {path}: [sample] {name} needs low < high (and low > 0 when log); got {spec}")
    if not config.varied and len(config.seeds) < 2:
        raise ValueError(f"sweep {path}: nothing to vary: give [vary] or [sample] settings, or two or more seeds")


def _corners(config: SweepConfig) -> list[dict[str, Any]]:
    """Each value of [vary] and each bound of [sample], one at a time, on top of the first values."""
    base = {name: values[0] for name, values in config.vary.items()}
    base.update({name: spec["low"] for name, spec in config.sample.items()})
    corners = [base] + [dict(base, **{name: value}) for name, values in config.vary.items() for value in values]
    corners += [dict(base, **{name: spec[bound]}) for name, spec in config.sample.items() for bound in ("low", "high")]
    return [dict(values, seed=config.seeds[0]) for values in corners]


def trial_settings(config: SweepConfig, values: dict[str, Any]) -> tuple[DDPGConfig, TrainSettings]:
    """The validated (DDPGConfig, TrainSettings) of a trial with ``values`` (the varied settings and ``seed``)."""
    changes = {**config.settings, **values}
    train_changes = {k: v for k, v in changes.items() if k in _fields(TrainSettings)}
    agent_changes = {
        k: (tuple(v) if isinstance(v, list) else v) for k, v in changes.items() if k in _fields(DDPGConfig)
    }
    settings = TrainSettings.for_task(config.task, **train_changes).validate()
    agent_config = takeoff_config(changes.get("seed", 0), settings.dynamics).replace(**agent_changes).validate()
    return agent_config, settings


def trial_name(values: dict[str, Any]) -> str:
    """The run folder's name of a trial: ``tau=0.005,seed=1`` with characters safe in a path."""
    parts = [f"{name}={_short(value)}" for name, value in values.items() if name != "seed"]
    return re.sub(r"[^A-Za-z0-9_.=,+-]", "_", ",".join(parts + [f"seed={values['seed']}"]))


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):  # actor_units = [64, 64] -> 64-64
        return "-".join(_short(v) for v in value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run_trial(config: SweepConfig, folder: Path, values: dict[str, Any]) -> dict[str, float]:
    """Train one trial into ``folder`` (resuming a stopped run there), evaluate it, return every metric."""
    agent_config, settings = trial_settings(config, values)
    resume = Run(folder).holds_run()
    agent, episodes = train(
        None if resume else agent_config, None if resume else settings, out=folder, resume=resume, progress=False
    )
    summaries = finish_run(agent, episodes, folder, settings)
    return {name: float(summaries[actor][key]) for name, (actor, key) in METRICS.items()}


def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


def run_sweep(config: SweepConfig, out: Path, address: str | None = None, resume: bool = False) -> pd.DataFrame:
    """Run the sweep's trials on Ray Tune (this machine, or the cluster at ``address``), then write sweep.csv
    and sweep.png into ``out``; returns the table. ``ImportError`` with the install line without Ray."""
    if not ray_available():
        raise ImportError(INSTALL)
    import ray
    from ray import tune

    out = Path(out).resolve()
    storage = out / "ray"
    if not resume and storage.exists():
        raise ValueError(f"{out} holds a sweep already: continue it (--resume), or give another --out")
    ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)

    def trainable(values: dict[str, Any]) -> None:
        values = {name: values[name] for name in [*config.varied, "seed"]}
        tune.report(run_trial(config, out / "trials" / trial_name(values), values))

    space: dict[str, Any] = {name: tune.grid_search(values) for name, values in config.vary.items()}
    for name, spec in config.sample.items():
        space[name] = (tune.loguniform if spec.get("log") else tune.uniform)(spec["low"], spec["high"])
    space["seed"] = tune.grid_search(config.seeds)
    runnable = tune.with_resources(trainable, {"cpu": 1})
    if resume:
        tuner = tune.Tuner.restore(str(storage / "sweep"), runnable, resume_unfinished=True, resume_errored=True)
    else:
        tuner = tune.Tuner(
            runnable,
            param_space=space,
            tune_config=tune.TuneConfig(metric=config.metric, mode="max", num_samples=config.samples),
            run_config=tune.RunConfig(name="sweep", storage_path=str(storage), verbose=0),
        )
    results = tuner.fit()
    table = results_table(config, results.get_dataframe())
    write_results(table, config, out)
    return table


def results_table(config: SweepConfig, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per trial: the trial's name, the varied settings, the seed, every metric (Ray's ``config/``
    columns renamed)."""
    columns = {f"config/{name}": name for name in [*config.varied, "seed"]}
    table = frame.rename(columns=columns)[[*columns.values(), *METRICS]]
    table.insert(0, "trial", [trial_name(dict(row)) for row in table[list(columns.values())].to_dict("records")])
    return table.sort_values(list(columns.values())).reset_index(drop=True)


def write_results(table: pd.DataFrame, config: SweepConfig, out: Path) -> None:
    table.to_csv(out / "sweep.csv", index=False)
    plot_sweep_results(table, config).savefig(out / "sweep.png", dpi=100)


def plot_sweep_results(table: pd.DataFrame, config: SweepConfig) -> Figure:
    """The metric against each varied setting: a point per trial (one colour per seed) and the mean over seeds;
    for a sweep of seeds alone, the metric of each seed."""
    names = config.varied
    if not names:
        figure = Figure(figsize=(5, 3.8), layout="constrained")
        ax = figure.subplots()
        ax.bar([str(seed) for seed in table["seed"]], table[config.metric], color="tab:blue")
        ax.set(xlabel="seed", ylabel=config.metric, title=f"{config.metric} by seed")
        return figure
    figure = Figure(figsize=(5 * len(names), 3.8), layout="constrained")
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        for seed, rows in table.groupby("seed"):
            ax.plot(rows[name], rows[config.metric], "o", alpha=0.6, label=f"seed {seed}")
        mean = table.groupby(name)[config.metric].mean()
        ax.plot(mean.index, mean.to_numpy(), "k-", lw=2, label="mean over seeds")
        if name in config.sample and config.sample[name].get("log"):
            ax.set_xscale("log")
        ax.set(xlabel=name, ylabel=config.metric, title=f"{config.metric} against {name}")
        if config.metric != "final_return":  # a success rate: the whole [0, 1]
            ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return figure
