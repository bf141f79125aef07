"""The workflow's config: its schema, its check, and the runs and jobs it makes.

The experiment is a YAML config (``config/config.yaml``; every key is described in
``workflow/schemas/config.schema.yaml``). Snakemake reads it; ``common.smk`` then
calls, in this order,

* :func:`validate_config`, which checks it against :func:`config_schema` and fills
  in every default;
* :func:`resolve_runs`, which makes one *run* per environment and per swept value;
* :func:`resolve_figures`, which names the figures and the run each is drawn from;
* :func:`resolve_jobs`, which groups the runs into the jobs that solve and measure
  them (several runs per process: starting Python and importing the scientific
  stack costs about a second, more than most runs);

and, per job, :func:`job_mdp_args` (from :func:`env_builder` and :func:`env_params`)
and :func:`job_runs_json` (each run's settings and :func:`provenance`) for its
command line. The paths
of a run's files are :data:`ENV_FILE`, :data:`TRAJECTORY_FILE` and
:data:`MEASURES_FILE`. Every error is one :class:`~himo.errors.ConfigError` that
names the config key at fault.

**The solver settings are not written in the schema file.** They are defined once,
with their types, bounds, help texts and defaults, in :mod:`himo.solver.settings`;
:func:`config_schema` inserts them (with their defaults in the top-level
``solver``, without in the per-environment and per-sweep overrides, where an unset
key inherits and a default would silently undo the top-level value), and
:func:`job_runs_json` passes every resolved setting of each run to ``himo run``,
which hands them to :func:`himo.solve` as they are. The validation is done here rather than
by ``snakemake.utils.validate``, which only takes a schema file.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from himo.errors import ConfigError, ParameterError
from himo.solver.settings import SolverSettings, check_setting, setting_schemas

#: The ways an environment is given, one per run.
SOURCE_KINDS = ("env", "map", "mdp", "gymnasium")
#: The kinds whose MDP a rule of its own writes to results/<key>/env.nc with ``himo
#: import`` (environment_file, environment_gymnasium), which the jobs then read; the
#: jobs build the others (``env``, ``map``) in their own process.
IMPORTED_KINDS = ("mdp", "gymnasium")

#: The files of run ``key``: its MDP (a sweep's run reads its environment's), its
#: trajectory (``himo solve``) and its measures (``himo measures``).
ENV_FILE = "results/{key}/env.nc"
TRAJECTORY_FILE = "results/{key}/trajectory.nc"
MEASURES_FILE = "results/{key}/measures.nc"
#: The log of the job that solves and measures a group of runs.
JOB_LOG = "results/logs/{job}.log"


# ---------------------------------------------------------------- the schema
def config_schema(schema_file: str | Path) -> dict:
    """The config's JSON schema: ``schema_file`` with the solver settings filled in.

    The file leaves ``properties`` of ``solver`` and of ``$defs/solver_overrides``
    and the ``enum`` of a sweep's ``setting`` empty; they come from
    :func:`himo.solver.settings.setting_schemas`.
    """
    schema = yaml.safe_load(Path(schema_file).read_text())
    settings = setting_schemas()
    solver = schema["properties"]["solver"]
    overrides = schema["$defs"]["solver_overrides"]
    swept = schema["properties"]["sweeps"]["additionalProperties"]["properties"]["setting"]
    if solver.get("properties") or overrides.get("properties") or swept.get("enum"):
        raise ValueError(
            f"{schema_file} lists solver settings; they are defined in himo.solver.settings"
        )
    solver["properties"] = copy.deepcopy(settings)
    overrides["properties"] = {
        name: {k: v for k, v in setting.items() if k != "default"}
        for name, setting in copy.deepcopy(settings).items()
    }
    swept["enum"] = list(settings)
    return schema


def validate_config(config: dict, schema_file: str | Path) -> dict:
    """Check ``config`` against the schema and fill in its defaults (in place).

    What ``snakemake.utils.validate(config, schema, set_default=True)`` does, with
    the schema of :func:`config_schema`. Returns ``config``.
    """
    schema = config_schema(schema_file)
    error = jsonschema.exceptions.best_match(_filling_validator(schema).iter_errors(config))
    if error is not None:
        where = _key_path(error.absolute_path)
        raise ConfigError(f"config{': ' + where if where else ''}: {error.message}")
    return config


def _filling_validator(schema: dict) -> jsonschema.protocols.Validator:
    """A validator of ``schema`` that sets each missing property that has a default."""
    base = jsonschema.validators.validator_for(schema)
    base.check_schema(schema)
    check_properties = base.VALIDATORS["properties"]

    def fill_then_check(validator, properties, instance, subschema):
        if validator.is_type(instance, "object"):
            for name, property_schema in properties.items():
                if name not in instance and "default" in property_schema:
                    instance[name] = copy.deepcopy(property_schema["default"])
        yield from check_properties(validator, properties, instance, subschema)

    return jsonschema.validators.extend(base, {"properties": fill_then_check})(schema)


def _key_path(path: Iterable[Any]) -> str:
    """``["sweeps", "s", "values", 0]`` -> ``"sweeps.s.values[0]"``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


# ------------------------------------------------------------------- the runs
def resolve_runs(config: dict) -> dict[str, dict]:
    """``{key: run}`` for every environment and every swept value, checked.

    ``config`` is validated (:func:`validate_config`). A run is its environment's
    entry with ``kind`` (env, map, mdp or gymnasium) and ``solver``, every solver setting
    resolved: the top-level ``solver``, then the environment's, then the sweep's
    ``solver`` and value. A sweep's run also has ``sweep``: ``{name, setting,
    value, base}``, ``base`` being the environment it varies. A sweep with
    ``skip_base_value`` makes no run for the value its environment already has:
    the environment's own run stands for it.
    """
    defaults = _checked_settings(config["solver"], "solver")
    runs = {}
    for key, entry in config["environments"].items():
        run = {name: value for name, value in entry.items() if name != "solver"}
        run["kind"] = source_kind(key, entry)
        if run["kind"] == "env":
            _check_registered(key, entry["env"])
        run["solver"] = {**defaults, **_checked_settings(entry["solver"], f"environments.{key}.solver")}
        runs[key] = run
    for name, sweep in config["sweeps"].items():
        for key, run in _sweep_runs(name, sweep, runs).items():
            if key in runs:
                raise ConfigError(f"config: sweeps.{name} makes run {key!r}, which already exists")
            runs[key] = run
    if not runs:
        raise ConfigError("config: environments is empty; there is nothing to run")
    for key, run in runs.items():
        _check_together(key, run)
    return runs


def source_kind(key: str, entry: dict) -> str:
    """``"env"``, ``"map"``, ``"mdp"`` or ``"gymnasium"``: the one way environment ``key`` is given."""
    given = [kind for kind in SOURCE_KINDS if entry.get(kind)]
    if len(given) != 1:
        raise ConfigError(
            f"config: environments.{key} must give exactly one of {', '.join(SOURCE_KINDS)}; "
            f"it gives {', '.join(given) or 'none'}"
        )
    if given[0] == "mdp" and entry.get("params"):
        raise ConfigError(f"config: environments.{key}.params is not allowed with mdp")
    return given[0]


def sweep_key(base: str, label: str, value: Any) -> str:
    """The key of a sweep's run: ``"hanoi", "lam", 0.8`` -> ``"hanoi-lam0.8"``."""
    return f"{base}-{label}{value}"


def is_variant(key: str, run: dict) -> bool:
    """Whether run ``key`` varies a paper environment rather than being one (or a user's)."""
    return bool(run.get("paper_env")) and run["paper_env"] != key


def _sweep_runs(name: str, sweep: dict, runs: dict[str, dict]) -> dict[str, dict]:
    """The runs of sweep ``name``: each value of its setting on each of its environments."""
    setting, label = sweep["setting"], sweep["label"] or sweep["setting"]
    overrides = _checked_settings(sweep["solver"], f"sweeps.{name}.solver")
    values = [_checked_setting(setting, value, f"sweeps.{name}.values[{i}]")
              for i, value in enumerate(sweep["values"])]
    if len(set(values)) != len(values):
        raise ConfigError(f"config: sweeps.{name}.values lists a value twice: {values}")
    made = {}
    for base in sweep["environments"]:
        if base not in runs or "sweep" in runs[base]:
            raise ConfigError(
                f"config: sweeps.{name}.environments names {base!r}, which is not a key of "
                f"environments ({', '.join(key for key in runs if 'sweep' not in runs[key])})"
            )
        for value in values:
            if sweep["skip_base_value"] and value == runs[base]["solver"][setting]:
                continue
            run = dict(runs[base])
            run["solver"] = {**run["solver"], **overrides, setting: value}
            run["sweep"] = {"name": name, "setting": setting, "value": value, "base": base}
            made[sweep_key(base, label, value)] = run
    return made


def _checked_settings(settings: dict, where: str) -> dict:
    """``settings`` checked by the settings' own rules (integral floats become ints)."""
    return {name: _checked_setting(name, value, f"{where}.{name}") for name, value in settings.items()}


def _checked_setting(name: str, value: Any, where: str) -> Any:
    try:
        return check_setting(name, value)
    except ParameterError as err:
        raise ConfigError(f"config: {where}: {err}") from None


def _check_together(key: str, run: dict) -> None:
    """The resolved settings of a run, checked as ``himo solve`` will (rules across settings)."""
    try:
        SolverSettings(**run["solver"])
    except ParameterError as err:
        origin = (f"sweeps.{run['sweep']['name']} on environments.{run['sweep']['base']}"
                  if "sweep" in run else f"solver and environments.{key}.solver")
        raise ConfigError(f"config: the solver settings of run {key!r} (from {origin}): {err}") from None


def _check_registered(key: str, env: str) -> None:
    from himo.envs import available_envs

    if env not in available_envs():
        raise ConfigError(
            f"config: environments.{key}.env is {env!r}, not a registered environment "
            f"({', '.join(available_envs())})"
        )


# ---------------------------------------------------------------- the figures
def resolve_figures(config: dict, runs: dict[str, dict]) -> dict[str, tuple[str, str]]:
    """``{figure name: (run key, style)}``: the named figures, then one per other run.

    Variants of a paper environment (:func:`is_variant`: the sweeps, the other
    reward convention) get a figure of their own only when the config's
    ``variant_figures`` is true.
    """
    figures = {}
    for name, figure in config["figures"].items():
        key = figure["environment"]
        if key not in runs:
            raise ConfigError(
                f"config: figures.{name}.environment is {key!r}, not a run ({', '.join(runs)})"
            )
        figures[name] = (key, figure["style"] or runs[key]["figure_style"])
    drawn = {key for key, _ in figures.values()}
    for key, run in runs.items():
        if key in drawn or (is_variant(key, run) and not config["variant_figures"]):
            continue
        if key in figures:
            raise ConfigError(
                f"config: run {key!r} would draw figures/{key}.png, which is the named "
                f"figure {key!r} of another run; rename one of them"
            )
        figures[key] = (key, run["figure_style"])
    return figures


# -------------------------------------------------------------------- the jobs
def resolve_jobs(runs: dict[str, dict], runs_per_job: int) -> dict[str, list[str]]:
    """``{job name: run keys}``: the runs that one ``himo run`` job solves and measures.

    The runs on the same MDP (:func:`environment_key`) are dealt, in the config's
    order, to as few groups of at most ``runs_per_job`` as possible, like cards: run
    ``i`` to group ``i mod n``. The groups then differ in size by at most one and
    mix the kinds of runs (a sweep's runs, which cost alike, are spread over the
    groups), so that they take about the same time. A group's name is ``run_<MDP
    key>`` with ``_2``, ``_3``, ... for the later groups of the same MDP
    (characters other than letters, digits and ``_`` become ``_``: the name is
    also a Snakemake rule's). Changing a run's settings reruns its whole group.
    """
    by_mdp: dict[str, list[str]] = {}
    for key, run in runs.items():
        by_mdp.setdefault(environment_key(key, run), []).append(key)
    jobs, origin = {}, {}
    for mdp_key, keys in by_mdp.items():
        stem = "run_" + re.sub(r"\W", "_", mdp_key)
        n_groups = -(-len(keys) // runs_per_job)
        for number in range(1, n_groups + 1):
            name = stem if number == 1 else f"{stem}_{number}"
            if name in jobs:
                raise ConfigError(
                    f"config: the environments {origin[name]!r} and {mdp_key!r} make the same job name "
                    f"{name!r}; rename one of them")
            jobs[name], origin[name] = keys[number - 1::n_groups], mdp_key
    return jobs


def job_environment_key(job_keys: list[str], runs: dict[str, dict]) -> str:
    """The run whose MDP every run of a job solves (the key of its ``env.nc``)."""
    return environment_key(job_keys[0], runs[job_keys[0]])


def job_mdp_args(job: str, jobs: dict[str, list[str]], runs: dict[str, dict]) -> list[str]:
    """How ``himo run`` gets a job's MDP: ``["results/<key>/env.nc"]`` for a user's MDP
    file or a Gymnasium environment (:data:`IMPORTED_KINDS`; written there by ``himo
    import``); otherwise ``["--env",
    builder, "--param=...", ...]``, built in the job's process as ``himo env`` builds it
    (no job of its own, and none waits for another), the first job of that MDP also
    writing it to ``results/<key>/env.nc`` (``--save-mdp``; :func:`job_mdp_output`)."""
    key = job_environment_key(jobs[job], runs)
    run = runs[key]
    if run["kind"] in IMPORTED_KINDS:
        return [ENV_FILE.format(key=key)]
    built = ["--env", env_builder(run), *env_params(run)]
    return built + ["--save-mdp", ENV_FILE.format(key=key)] if job_mdp_output(job, jobs, runs) else built


def job_mdp_output(job: str, jobs: dict[str, list[str]], runs: dict[str, dict]) -> list[str]:
    """``[results/<key>/env.nc]`` if ``job`` writes its MDP's file (the first job of a built
    MDP, in the order of :func:`resolve_jobs`), else ``[]``."""
    key = job_environment_key(jobs[job], runs)
    if runs[key]["kind"] in IMPORTED_KINDS:
        return []
    first = next(name for name, keys in jobs.items() if job_environment_key(keys, runs) == key)
    return [ENV_FILE.format(key=key)] if first == job else []


def job_runs_json(job_keys: list[str], runs: dict[str, dict], variant_counters: bool = False,
                  variant_trajectories: bool = False) -> str:
    """The JSON list ``himo run`` takes: per run its trajectory file (null when the run
    keeps none: :func:`stores_trajectory`) and measures file, its
    solver settings, the provenance ``himo solve --provenance`` would record, and
    whether to store the counters C and I (``himo solve --counters``): ``auto`` (when
    the MDP is small enough), but ``no`` for a variant of a paper environment
    (:func:`is_variant`) unless ``variant_counters``; and a log-linear run's ``features``."""
    return json.dumps([
        {"trajectory": (TRAJECTORY_FILE.format(key=key) if stores_trajectory(key, runs[key], variant_trajectories)
                        else None),
         "measures": MEASURES_FILE.format(key=key),
         "settings": runs[key]["solver"], "provenance": provenance(key, runs[key]),
         "counters": "no" if is_variant(key, runs[key]) and not variant_counters else "auto",
         **({"features": runs[key]["features"]} if runs[key].get("features") else {})}
        for key in job_keys
    ], sort_keys=True)


def job_feature_files(job_keys: list[str], runs: dict[str, dict]) -> list[str]:
    """The features files a job's runs read (a run's ``features`` that is not a registered
    feature set: a netCDF file, :func:`himo.envs.features.load_features`), each once, so that
    a changed file reruns the job."""
    from himo.envs.features import available_features

    named = set(available_features())
    return list(dict.fromkeys(runs[key]["features"] for key in job_keys
                              if runs[key].get("features") and runs[key]["features"] not in named))


def stores_trajectory(key: str, run: dict, variant_trajectories: bool = False) -> bool:
    """Whether run ``key`` keeps its trajectory file: every run but the variants of a
    paper environment (:func:`is_variant`), whose measures are all that is read
    downstream, unless ``variant_trajectories``."""
    return variant_trajectories or not is_variant(key, run)


def from_drawn_prior(run: dict) -> bool:
    """Whether a run starts from a prior drawn near the uniform one (setting ``prior_seed``
    > 0): its measures are read by the tables that summarize the drawn priors (the claims,
    the baselines' and the lift's) and then removed (Snakemake's ``temp``; ``--notemp``
    keeps them)."""
    return run["solver"].get("prior_seed", 0) > 0


def job_trajectory_files(job_keys: list[str], runs: dict[str, dict], variant_trajectories: bool = False) -> list[str]:
    """The trajectory files a job writes: those of its runs that keep one (:func:`stores_trajectory`)."""
    return [TRAJECTORY_FILE.format(key=key) for key in job_keys
            if stores_trajectory(key, runs[key], variant_trajectories)]


# ---------------------------------------------------------- the jobs' arguments
def environment_key(key: str, run: dict) -> str:
    """The run whose MDP file run ``key`` reads: its own, or for a sweep's run its base's."""
    return run["sweep"]["base"] if "sweep" in run else key


def env_builder(run: dict) -> str:
    """The registered builder ``himo env`` runs: the run's ``env``, or ``grid`` for a map."""
    if run["kind"] not in ("env", "map"):
        raise ValueError(f"a run given by {run['kind']!r} has no builder")
    return run["env"] if run["kind"] == "env" else "grid"


def import_source(run: dict) -> str:
    """The source ``himo import`` reads for a run given by ``gymnasium``: ``gymnasium:ID``."""
    from himo.importers import GYMNASIUM_PREFIX

    if run["kind"] != "gymnasium":
        raise ValueError(f"a run given by {run['kind']!r} is not imported from a source")
    return GYMNASIUM_PREFIX + run["gymnasium"]


def env_params(run: dict) -> list[str]:
    """``["--param=KEY=VALUE", ...]`` of the run's builder (the map file for a map), or of
    ``gymnasium.make`` for a run given by ``gymnasium``."""
    params = dict(run["params"])
    if run["kind"] == "map":
        params["map"] = run["map"]
    return [f"--param={name}={json.dumps(value) if isinstance(value, bool) else value}"
            for name, value in sorted(params.items())]


def provenance(key: str, run: dict) -> dict:
    """What a run's trajectory records (``himo solve --provenance``): ``env_key``,
    ``paper_env`` and the run's config entry.

    The entry is what makes the trajectory (environment, parameters, resolved
    solver settings, sweep), without ``figure_style``, which only the figure uses
    (as a parameter of the job it would rerun the runs for nothing).
    """
    entry = {name: value for name, value in run.items() if name != "figure_style"}
    return {"env_key": key, "paper_env": run["paper_env"], "config": entry}


def key_pattern(keys: Iterable[str]) -> str:
    """A regular expression matching exactly ``keys`` (or nothing, if there are none)."""
    return "|".join(re.escape(key) for key in sorted(keys)) or "(?!)"
