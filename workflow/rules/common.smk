# Helpers of the himo workflow: the runs the config asks for, the command-line
# arguments of each job, and the package source files each stage depends on.
# Rules call these by name (never lambdas); names start with get_ or is_.

import glob
import json
import os
import re
import shlex
from importlib.util import find_spec
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError

SOLVER_SETTINGS = ("lam", "method", "step", "max_iter", "tol", "dependent", "thin", "linear_solver")
SCHEMA_FILE = Path(workflow.basedir) / "schemas" / "config.schema.yaml"


# ------------------------------------------------------------------------- runs
def get_setting_schemas():
    """{setting: JSON schema} of the solver settings, from the config schema."""
    with open(SCHEMA_FILE) as handle:
        schema = yaml.safe_load(handle)
    return {name: schema["$defs"][name] for name in SOLVER_SETTINGS}


def get_sweep_key(base, label, value):
    """The key of a sweep's run: 'hanoi', 'lam', 0.8 -> 'hanoi-lam0.8'."""
    return f"{base}-{label}{value}"


def get_source_kind(key, entry):
    """'env', 'map' or 'mdp': the one way environment `key` is given."""
    given = [kind for kind in ("env", "map", "mdp") if entry.get(kind)]
    if len(given) != 1:
        raise WorkflowError(
            f"config: environments.{key} must give exactly one of env, map or mdp; "
            f"it gives {', '.join(given) or 'none'}"
        )
    if given[0] == "mdp" and entry.get("params"):
        raise WorkflowError(f"config: environments.{key}.params is not allowed with mdp")
    return given[0]


def get_runs(config):
    """{key: run} for every environment and every sweep value, checked.

    A run is the environment's config entry with its solver settings resolved
    (top-level defaults, then the environment's, then the sweep's) plus `kind`
    (env, map or mdp) and, for a sweep's run, `sweep` {name, setting, value, base}.
    """
    setting_schemas = get_setting_schemas()
    runs = {}
    for key, entry in config["environments"].items():
        run = {k: v for k, v in entry.items() if k != "solver"}
        run["kind"] = get_source_kind(key, entry)
        run["solver"] = {**config["solver"], **entry.get("solver", {})}
        runs[key] = run
    for name, sweep in config["sweeps"].items():
        setting, label = sweep["setting"], sweep["label"] or sweep["setting"]
        for base in sweep["environments"]:
            if base not in config["environments"]:
                raise WorkflowError(
                    f"config: sweeps.{name}.environments names {base!r}, which is not "
                    f"a key of environments ({', '.join(config['environments'])})"
                )
            for value in sweep["values"]:
                try:
                    jsonschema.validate(value, setting_schemas[setting])
                except jsonschema.ValidationError as err:
                    raise WorkflowError(
                        f"config: sweeps.{name}.values: {value!r} is not a valid {setting}: "
                        f"{err.message}"
                    ) from None
                key = get_sweep_key(base, label, value)
                if key in runs:
                    raise WorkflowError(f"config: sweeps.{name} makes run {key!r}, which already exists")
                run = dict(runs[base])
                run["solver"] = {**run["solver"], **sweep["solver"], setting: value}
                run["sweep"] = {"name": name, "setting": setting, "value": value, "base": base}
                runs[key] = run
    if not runs:
        raise WorkflowError("config: environments is empty; there is nothing to run")
    known = get_registered_envs()
    for key, run in runs.items():
        if known is not None and run["kind"] == "env" and run["env"] not in known:
            raise WorkflowError(
                f"config: environments.{key}.env is {run['env']!r}, not a registered "
                f"environment ({', '.join(known)})"
            )
    return runs


def get_registered_envs():
    """The registered environment names, or None if himo cannot be imported here."""
    try:
        from himo.envs import available_envs
    except ImportError:
        return None
    return available_envs()


def get_figures(config, runs):
    """{figure name: (run key, style)}: the named figures, then one per other run.

    Variants of a paper environment (a run whose paper_env is set but is not its
    own key: the sweeps, the other reward convention) get a figure of their own
    only when the config's `variant_figures` is true.
    """
    figures = {}
    for name, figure in config["figures"].items():
        key = figure["environment"]
        if key not in runs:
            raise WorkflowError(
                f"config: figures.{name}.environment is {key!r}, not a run "
                f"({', '.join(runs)})"
            )
        figures[name] = (key, figure["style"] or runs[key]["figure_style"])
    drawn = {key for key, _ in figures.values()}
    for key, run in runs.items():
        if key in drawn or (is_variant(key, run) and not config["variant_figures"]):
            continue
        if key in figures:
            raise WorkflowError(
                f"config: run {key!r} would draw figures/{key}.png, which is the named "
                f"figure {key!r} of another run; rename one of them"
            )
        figures[key] = (key, run["figure_style"])
    return figures


def is_variant(key, run):
    """Whether run `key` varies a paper environment rather than being one (or a user's)."""
    return bool(run.get("paper_env")) and run["paper_env"] != key


def get_key_pattern(keys):
    """A wildcard constraint matching exactly these keys (or nothing, if none)."""
    return "|".join(re.escape(key) for key in sorted(keys)) or "(?!)"


RUNS = get_runs(config)
FIGURES = get_figures(config, RUNS)


def get_run_keys(kind=None):
    """The keys of all runs, or of the runs whose environment is given as `kind`."""
    return [key for key, run in RUNS.items() if kind is None or run["kind"] == kind]


def get_environment_keys(kind):
    """The keys of the runs that build their own results/<key>/env.nc: all but sweeps."""
    return [key for key in get_run_keys(kind) if "sweep" not in RUNS[key]]


def get_env_file(wildcards):
    """The MDP file of a run: its own, or for a sweep's run its environment's."""
    run = RUNS[wildcards.key]
    key = run["sweep"]["base"] if "sweep" in run else wildcards.key
    return rules.environment.output.mdp.format(key=key)


def get_figure_names():
    """The names of all figures: the named ones, then one per other run."""
    return list(FIGURES)


# ------------------------------------------------------------- job arguments
def get_env_name(wildcards):
    """The registered builder of a run: its `env`, or `grid` for a map."""
    run = RUNS[wildcards.key]
    return run["env"] if run["kind"] == "env" else "grid"


def get_env_params(wildcards):
    """`--param KEY=VALUE ...` of a run's builder (shell-quoted)."""
    run = RUNS[wildcards.key]
    params = dict(run.get("params", {}))
    if run["kind"] == "map":
        params["map"] = run["map"]
    return " ".join(
        shlex.quote(f"--param={name}={json.dumps(value) if isinstance(value, bool) else value}")
        for name, value in sorted(params.items())
    )


def get_map_file(wildcards):
    """The map file of a run given by `map` (an input, so editing it reruns), else none."""
    run = RUNS[wildcards.key]
    return [run["map"]] if run["kind"] == "map" else []


def get_mdp_file(wildcards):
    """The user's MDP file of a run given by `mdp`."""
    return RUNS[wildcards.key]["mdp"]


def get_solver_args(wildcards):
    """`--lam 0.9 --method newton ...` of a run (shell-quoted)."""
    settings = RUNS[wildcards.key]["solver"]
    return " ".join(
        f"--{name.replace('_', '-')} {shlex.quote(str(settings[name]))}" for name in SOLVER_SETTINGS
    )


def get_provenance(wildcards):
    """The JSON `himo solve --provenance` records: env_key, paper_env, config entry.

    The entry is what makes the trajectory: the environment, its parameters, the
    resolved solver settings and the sweep, not the figure style (a parameter of
    the job, so changing it would rerun the solve for nothing).
    """
    run = RUNS[wildcards.key]
    entry = {name: value for name, value in run.items() if name != "figure_style"}
    return json.dumps(
        {"env_key": wildcards.key, "paper_env": run["paper_env"], "config": entry},
        sort_keys=True,
    )


def get_figure_measures(wildcards):
    """The measures file a figure is drawn from."""
    key, _ = FIGURES[wildcards.figure]
    return rules.measures.output.measures.format(key=key)


def get_figure_style(wildcards):
    """`--normalized` or `--raw`."""
    _, style = FIGURES[wildcards.figure]
    return f"--{style}"


# ------------------------------------------------------ code the jobs depend on
def get_package_dir():
    """The directory of the himo package the `himo` command runs."""
    spec = find_spec("himo")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(workflow.basedir).parent / "src" / "himo"


def get_package_files(*patterns):
    """Source files of the himo package matching `patterns` (relative glob patterns).

    They are inputs of the jobs whose results they compute, so editing one reruns
    those jobs (and everything downstream). Tests (test_*.py) and caches are left out.
    """
    root = get_package_dir()
    files = set()
    for pattern in patterns:
        for path in glob.glob(str(root / pattern), recursive=True):
            name = os.path.basename(path)
            if os.path.isfile(path) and not name.startswith("test_") and not name.endswith(".pyc"):
                files.add(path)
    return sorted(files)


def get_env_code():
    return get_package_files("envs/**/*.py", "envs/maps/*", "mdp.py", "mdpfile.py", "io.py")


def get_solve_code():
    return get_package_files("solver/*.py", "trajectory.py", "mdp.py", "mdpfile.py", "io.py")


def get_analysis_code():
    return get_package_files("analysis/*.py", "io.py")


def get_plotting_code():
    return get_package_files("plotting/*")


# ------------------------------------------------------------------ targets
def get_final_outputs():
    """The targets of the default rule: all figures, the claims (and so all measures)."""
    figures = [
        path.format(figure=name)
        for name in get_figure_names()
        for path in (rules.figure.output.png, rules.figure.output.pdf)
    ]
    return figures + list(rules.claims.output)
