"""The baselines rule (workflow/rules/baselines.smk), by dry runs: it reads every run's
measures and is a final target when some run is of a paper environment."""

from __future__ import annotations

import re

import pytest
import yaml
from test_workflow import PAPER_CONFIG, TEST_CONFIG, assert_ok, jobs_of, output_of, snakemake

pytestmark = pytest.mark.workflow

OUTPUTS = ["figures/baselines.png", "figures/baselines.pdf", "results/baselines.csv", "results/prior_runs.csv"]


def baselines_job(text: str) -> str:
    """The dry run's block of the baselines job."""
    match = re.search(r"^rule baselines:\n(.*?)(?:\n\n|\Z)", text, re.M | re.S)
    assert match, text[-3000:]
    return match.group(1)


@pytest.mark.parametrize("config", [PAPER_CONFIG, TEST_CONFIG], ids=["paper", "test"])
def test_dry_run_plans_the_baselines_from_every_run(tmp_path, config):
    proc = snakemake(tmp_path, "-n", config=config)
    assert_ok(proc)
    assert jobs_of(proc)["baselines"] == 1
    job = baselines_job(output_of(proc))
    inputs = re.search(r"input: (.*)", job).group(1).split(", ")
    keys = yaml.safe_load(config.read_text())["environments"]
    for key in keys:
        assert f"results/{key}/measures.nc" in inputs, key
    measures = [path for path in inputs if path.endswith("/measures.nc")]
    assert len(measures) == len(set(measures)) >= len(keys)
    assert any(path.endswith("src/himo/plotting/baselines.py") for path in inputs)  # its code
    assert re.search(r"output: (.*)", job).group(1).split(", ") == OUTPUTS


def test_no_baselines_without_a_paper_environment(tmp_path):
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["environments"]["hanoi"]["paper_env"] = ""
    config["figures"] = {}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = snakemake(tmp_path, "-n", config=path)
    assert_ok(proc)
    assert "baselines" not in jobs_of(proc)
