# Helpers of the himo workflow: thin adapters from Snakemake's wildcards to
# himo.pipeline, where the config is checked and resolved (himo.pipeline.config)
# and each command's code inputs are found (himo.pipeline.sources); both are
# tested without Snakemake in tests/workflow. Rules call these by name (never
# lambdas); names start with get_.

import shlex
from pathlib import Path

from snakemake.exceptions import WorkflowError

try:
    from himo.errors import ConfigError
    from himo.pipeline import config as pipeline
    from himo.pipeline.sources import command_sources
except ImportError as err:
    raise WorkflowError(
        f"the Python running Snakemake cannot import himo ({err}); run `make setup` and "
        "use .venv/bin/snakemake (or put .venv/bin first on PATH)"
    ) from None

SCHEMA_FILE = Path(workflow.basedir) / "schemas" / "config.schema.yaml"

try:
    pipeline.validate_config(config, SCHEMA_FILE)
    RUNS = pipeline.resolve_runs(config)
    FIGURES = pipeline.resolve_figures(config, RUNS)
except ConfigError as err:
    raise WorkflowError(str(err)) from None


# ------------------------------------------------------------------------- runs
def get_run_keys(kind=None):
    """The keys of all runs, or of the runs whose environment is given as `kind`."""
    return [key for key, run in RUNS.items() if kind is None or run["kind"] == kind]


def get_environment_keys(kind):
    """The keys of the runs that build their own results/<key>/env.nc: all but sweeps."""
    return [key for key in get_run_keys(kind) if "sweep" not in RUNS[key]]


def get_figure_names():
    """The names of all figures: the named ones, then one per other run."""
    return list(FIGURES)


def get_key_pattern(keys):
    """A wildcard constraint matching exactly these keys (or nothing, if none)."""
    return pipeline.key_pattern(keys)


# ------------------------------------------------------------- job arguments
def get_env_file(wildcards):
    """The MDP file of a run: its own, or for a sweep's run its environment's."""
    key = pipeline.environment_key(wildcards.key, RUNS[wildcards.key])
    return rules.environment.output.mdp.format(key=key)


def get_env_name(wildcards):
    """The registered builder of a run: its `env`, or `grid` for a map."""
    return pipeline.env_builder(RUNS[wildcards.key])


def get_env_params(wildcards):
    """`--param=KEY=VALUE ...` of a run's builder (shell-quoted)."""
    return shlex.join(pipeline.env_params(RUNS[wildcards.key]))


def get_map_file(wildcards):
    """The map file of a run given by `map` (an input, so editing it reruns), else none."""
    run = RUNS[wildcards.key]
    return [run["map"]] if run["kind"] == "map" else []


def get_mdp_file(wildcards):
    """The user's MDP file of a run given by `mdp`."""
    return RUNS[wildcards.key]["mdp"]


def get_solver_args(wildcards):
    """`--lam 0.9 --method newton ...`: every solver setting of a run (shell-quoted)."""
    return shlex.join(pipeline.solver_args(RUNS[wildcards.key]))


def get_provenance(wildcards):
    """The JSON `himo solve --provenance` records (env_key, paper_env, the run)."""
    return pipeline.provenance_json(wildcards.key, RUNS[wildcards.key])


def get_figure_measures(wildcards):
    """The measures file a figure is drawn from."""
    key, _ = FIGURES[wildcards.figure]
    return rules.measures.output.measures.format(key=key)


def get_figure_style(wildcards):
    """`--normalized` or `--raw`."""
    _, style = FIGURES[wildcards.figure]
    return f"--{style}"


# ------------------------------------------------------ code the jobs depend on
def get_code(command):
    """The package files `himo COMMAND` executes or reads: inputs of the job that runs it,
    so editing one reruns the job and everything after it (the rule is
    himo.pipeline.sources)."""
    return command_sources(command)


# ------------------------------------------------------------------ targets
def get_final_outputs():
    """The targets of the default rule: all figures, the claims (and so all measures)."""
    figures = [
        path.format(figure=name)
        for name in get_figure_names()
        for path in (rules.figure.output.png, rules.figure.output.pdf)
    ]
    return figures + list(rules.claims.output)
