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
    JOBS = pipeline.resolve_jobs(RUNS, config["runs_per_job"])
except ConfigError as err:
    raise WorkflowError(str(err)) from None


# ------------------------------------------------------------------------- runs
def get_run_keys(kind=None):
    """The keys of all runs, or of the runs whose environment is given as `kind`."""
    return [key for key, run in RUNS.items() if kind is None or run["kind"] == kind]


def get_environment_keys(kind):
    """The keys of the runs that have their own results/<key>/env.nc: all but sweeps."""
    return [key for key in get_run_keys(kind) if "sweep" not in RUNS[key]]


def get_figure_names():
    """The names of all figures: the named ones, then one per other run."""
    return list(FIGURES)


def get_key_pattern(keys):
    """A wildcard constraint matching exactly these keys (or nothing, if none)."""
    return pipeline.key_pattern(keys)


def get_measures_files(keys=None):
    """The measures files of these runs (default: of every run)."""
    return [pipeline.MEASURES_FILE.format(key=key) for key in (get_run_keys() if keys is None else keys)]


# --------------------------------------------------------- the `himo run` jobs
def get_job_names():
    """The names of the jobs that solve and measure the runs, a group of runs each."""
    return list(JOBS)


def get_job_mdp_input(job):
    """The files a job's MDP comes from: results/<key>/env.nc for a user's MDP file or a
    Gymnasium environment (from rule environment_file or environment_gymnasium), the
    map file for a map, nothing for a registered environment (the job builds it)."""
    run = RUNS[pipeline.job_environment_key(JOBS[job], RUNS)]
    args = pipeline.job_mdp_args(job, JOBS, RUNS)
    return args[:1] if run["kind"] in pipeline.IMPORTED_KINDS else [run["map"]] if run["kind"] == "map" else []


def get_job_mdp_output(job):
    """results/<key>/env.nc if this job writes its MDP's file (the first job of a built MDP)."""
    return pipeline.job_mdp_output(job, JOBS, RUNS)


def get_job_mdp_args(job):
    """The MDP file, or `--env NAME --param=... [--save-mdp FILE]`, of a job (shell-quoted)."""
    return shlex.join(pipeline.job_mdp_args(job, JOBS, RUNS))


def get_job_measures_files(job):
    """The measures file of each run of a job; those of runs from drawn priors are temp():
    removed once the tables that summarize them are written (--notemp keeps them)."""
    files = [pipeline.MEASURES_FILE.format(key=key) for key in JOBS[job]]
    return [temp(path) if pipeline.from_drawn_prior(RUNS[key]) else path for key, path in zip(JOBS[job], files)]


def get_job_feature_files(job):
    """The features files (not registered feature sets) a job's runs read."""
    return pipeline.job_feature_files(JOBS[job], RUNS)


def get_job_trajectory_files(job):
    """The trajectory files of a job's runs that keep one (not the variants', unless
    the config's variant_trajectories)."""
    return pipeline.job_trajectory_files(JOBS[job], RUNS, config["variant_trajectories"])


def get_job_runs(job):
    """The JSON `himo run --runs` takes: each run's files, solver settings and provenance."""
    return pipeline.job_runs_json(JOBS[job], RUNS, config["variant_counters"], config["variant_trajectories"])


def get_job_log(job):
    return pipeline.JOB_LOG.format(job=job)


def get_job_priority(job):
    """The number of runs of a job: larger jobs are scheduled first."""
    return len(JOBS[job])


# ------------------------------------------------------------- job arguments


def get_mdp_file(wildcards):
    """The user's MDP file of a run given by `mdp`."""
    return RUNS[wildcards.key]["mdp"]


def get_import_source(wildcards):
    """`gymnasium:ID` of a run given by `gymnasium` (shell-quoted)."""
    return shlex.quote(pipeline.import_source(RUNS[wildcards.key]))


def get_env_params(wildcards):
    """`--param=KEY=VALUE ...` of a run's `gymnasium.make` (shell-quoted)."""
    return shlex.join(pipeline.env_params(RUNS[wildcards.key]))


def get_named_figure_files():
    """The PNG files of the config's named figures (the paper's: fig1, fig2, figS1)."""
    return [rules.figure.output.png.format(figure=name) for name in config["figures"]]


def get_named_figure_args():
    """`--figure PATH` for each of :func:`get_named_figure_files` (shell-quoted)."""
    return shlex.join(arg for path in get_named_figure_files() for arg in ("--figure", path))


def get_figure_measures(wildcards):
    """The measures file a figure is drawn from."""
    key, _ = FIGURES[wildcards.figure]
    return pipeline.MEASURES_FILE.format(key=key)


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
    """The targets of the default rule: all figures, the claims and the robustness
    atlas (and so all measures), the baselines and the replication report."""
    figures = [
        path.format(figure=name)
        for name in get_figure_names()
        for path in (rules.figure.output.png, rules.figure.output.pdf)
    ]
    return (figures + list(rules.claims.output) + list(rules.robustness_figures.output) + get_baselines_outputs()
            + get_replication_outputs())


def get_baselines_outputs():
    """The baselines figure and table and the bottleneck lift's, when some run is of a
    paper environment (they compare those)."""
    if not any(run["paper_env"] for run in RUNS.values()):
        return []
    return list(rules.baselines.output) + list(rules.lift.output)


def get_replication_outputs():
    """The replication report and its metadata, when the baselines are drawn (it reads their table)."""
    return list(rules.replication.output) if get_baselines_outputs() else []
