"""The code inputs of the workflow's jobs (himo.pipeline.sources), without Snakemake.

On a made-up package: each way of importing a module pulls it in, the other
subcommands' bodies do not, data files follow the modules that name them. On
himo itself: each command's files are the ones it runs, and each workflow rule
takes the code of the command it runs. That an edit of such a file makes
Snakemake plan the job is shown in tests/workflow/test_workflow.py.
"""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import pytest

from himo.pipeline.sources import ENTRY_POINT, PACKAGE_DIR, REGISTER, command_sources

REPO = Path(__file__).resolve().parents[2]

#: A package "pkg": {relative path: source}. Each module says who should pull it in.
FAKE = {
    "__init__.py": "from pkg import core\n",
    "core.py": "def f():\n    import pkg.deep.inner  # nested, in a function\n",
    "deep/__init__.py": "",
    "deep/inner.py": "from ..util import helper  # relative, two levels\n",
    "util.py": "helper = 1\n",
    "cli.py": textwrap.dedent('''\
        import importlib

        PLUGINS = ("pkg.plugin",)

        def command(name):
            return lambda run: run

        @command("one")
        def _one(args):
            from pkg import only_one

        @command("two")
        def _two(args):
            from . import only_two

        def load():
            for name in PLUGINS:
                importlib.import_module(name)
        '''),
    "only_one.py": "",
    "only_two.py": "from pkg.style import path\n",
    "plugin.py": textwrap.dedent('''\
        from pkg.cli import command

        @command("three")
        def _three(args):
            import pkg.reader as reader
        '''),
    "reader.py": "MAPS = 'maps'\n",
    "style.py": "path = 'house.mplstyle'\n",
    "maps/a.txt": "a map",
    "maps/more/b.txt": "another",
    "house.mplstyle": "lines.linewidth: 1",
    "orphan.dat": "read by no module that says so",
    "test_only.dat": "test data",
    "test_core.py": "DATA = 'test_only.dat'\nimport pkg.unused\n",
    "unused.py": "",
    "__pycache__/core.cpython-311.pyc": "",
}


@pytest.fixture
def fake(tmp_path):
    root = tmp_path / "pkg"
    for name, text in FAKE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def names(paths, root):
    return {str(Path(p).relative_to(root)) for p in paths}


COMMON = {"__init__.py", "core.py", "deep/__init__.py", "deep/inner.py", "util.py", "cli.py", "plugin.py",
          "orphan.dat"}


def test_each_command_runs_the_closure_of_its_imports(fake):
    """Top-level, nested, relative, `from x import module`, string-named (plugins),
    parent packages; the other commands' bodies are left out; data follow their readers."""
    assert names(command_sources("one", fake, "pkg.cli"), fake) == COMMON | {"only_one.py"}
    assert names(command_sources("two", fake, "pkg.cli"), fake) == COMMON | {
        "only_two.py", "style.py", "house.mplstyle"}
    assert names(command_sources("three", fake, "pkg.cli"), fake) == COMMON | {
        "reader.py", "maps/a.txt", "maps/more/b.txt"}


def test_a_module_that_imports_another_pulls_it_in(fake):
    """Adding an import to a module adds the imported module (and what it imports)."""
    assert "unused.py" not in names(command_sources("one", fake, "pkg.cli"), fake)
    (fake / "util.py").write_text("helper = 1\nfrom pkg import unused\n")
    assert "unused.py" in names(command_sources("one", fake, "pkg.cli"), fake)
    (fake / "unused.py").write_text("def g():\n    from pkg import reader\n")
    assert {"unused.py", "reader.py", "maps/a.txt"} <= names(command_sources("one", fake, "pkg.cli"), fake)


def test_an_unknown_command_is_an_error(fake):
    with pytest.raises(ValueError, match="'four'"):
        command_sources("four", fake, "pkg.cli")


# --------------------------------------------------------------- himo itself
def himo_sources(command) -> set[str]:
    return names(command_sources(command), PACKAGE_DIR)


def test_every_registered_subcommand_is_found():
    """The decorator the closure looks for is the one himo registers subcommands with."""
    import himo.cli

    himo.cli._load_plugins()
    assert REGISTER == himo.cli.command.__name__
    for name in himo.cli._COMMANDS:
        assert "cli.py" in himo_sources(name), name


def test_the_entry_point_is_the_himo_script():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["himo"].split(":")[0] == ENTRY_POINT


def test_himo_commands():
    """What the workflow's edits rely on: every command runs the package's __init__,
    the command line and the files it reads and writes; only `figure` draws; the claims
    registry belongs to `claims` and to `figure` (whose panel D labels the states the
    claims name), no other of these."""
    every = {"__init__.py", "cli.py", "provenance.py", "mdpfile.py", "io.py", "measures/cli.py", "verdicts/cli.py",
             "plotting/cli.py"}
    for command in ("env", "import", "solve", "measures", "claims", "figure"):
        files = himo_sources(command)
        assert every <= files, (command, every - files)
        assert ("envs/maps/fourrooms.txt" in files) == ("envs/gridworld.py" in files), command
        assert ("plotting/panels.py" in files) == ("plotting/himo.mplstyle" in files) == (command == "figure")
        assert ("verdicts/claims.py" in files) == (command in ("claims", "figure")), command
        assert not any(Path(f).name.startswith("test_") or "pipeline" in f for f in files), command
    assert "measures/dataset.py" in himo_sources("measures")


def test_the_report_templates_are_inputs_of_the_commands_that_render_them():
    """Each template is named by the module that renders it (its file name a string constant),
    so it is a code input of the commands that render it, and of no per-run command."""
    template = "verdicts/templates/{}".format
    replication, claims = himo_sources("replication"), himo_sources("claims")
    assert {template(name) for name in ("replication.j2", "summary.j2", "sentences.j2", "macros.j2",
                                        "discussion-ties.j2")} <= replication
    assert template("claims.j2") in claims and template("replication.j2") not in claims
    for command in ("solve", "measures", "run"):
        assert not any("templates" in f for f in himo_sources(command)), command
    # a figure labels the states the claims name, so it reads the claims registry, whose
    # claims name their discussion paragraphs' templates: those, and no report template
    drawn = {f for f in himo_sources("figure") if "templates" in f}
    assert drawn and all(Path(f).name.startswith("discussion-") for f in drawn if f.endswith(".j2")), drawn


def test_each_rule_takes_the_code_of_the_command_it_runs():
    """In workflow/rules/*.smk a rule whose shell runs `himo X` has `code=get_code("X")`
    (a rule made in a loop, named by its `name:`, counts once)."""
    text = "\n".join(p.read_text() for p in sorted((REPO / "workflow/rules").glob("*.smk")))
    rules = re.findall(r"^[ \t]*rule( \w+)?:\n(.*?)(?=^[ \t]*rule[ \w]*:|\Z)", text, re.S | re.M)
    commands = {}
    for name, body in rules:
        name = name.strip() or re.search(r"name:\s*\n?\s*(\S+)", body).group(1)
        shell = re.findall(r'"himo (\w+)', body)
        code = re.findall(r'code=get_code\("(\w+)"\)', body)
        assert len(set(shell)) <= 1 and code == shell[:1], (name, shell, code)
        commands[name] = code
    assert commands == {"environment_file": ["import"], "environment_gymnasium": ["import"], "job": ["run"],
                        "figure": ["figure"], "claims": ["claims"], "robustness_figures": ["atlas"],
                        "baselines": ["baselines"], "lift": ["lift"], "replication": ["replication"]}
