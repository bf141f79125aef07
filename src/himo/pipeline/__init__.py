"""What the Snakemake workflow (``workflow/``) computes before any job runs.

:mod:`himo.pipeline.config` turns the experiment's config into runs, figures and
the command-line arguments of each job, and checks it (one
:class:`~himo.errors.ConfigError` naming the config key). :mod:`himo.pipeline.sources`
finds the package files each ``himo`` subcommand executes or reads, the code
inputs of the workflow's jobs. ``workflow/rules/common.smk`` only adapts them to
Snakemake's wildcards; both are tested without Snakemake in ``tests/workflow``.
"""
