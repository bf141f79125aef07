"""Every Markdown file the repository cites exists, and what docs/MATH.md promises holds.

A *reference* is a file name ending in ``.md``, with or without a folder
(``docs/MATH.md``, ``../README.md``, ``MATH.md``), in the repository's sources,
workflow, config, tests, benchmarks, docs, README.md and Makefile. In Python files
only strings and comments are read (``args.md`` in code is an attribute). A
reference must name a file of the repository relative to the citing file's folder
or to the repository root, or a file the workflow writes (:data:`GENERATED`).
Not references: URLs, names after ``--md`` (the output a user chooses), and names
inside a template (``results/<key>/...``, ``{output.md}``).

Also checked: every identity that a file citing docs/MATH.md names ("docs/MATH.md,
identity 4", "identities 2 and 3", "Identity 5:") is defined in docs/MATH.md
(headings ``### Identity N: ...``, numbered 1, 2, ... without gaps); every test
named in the documentation (:data:`DOCUMENTATION`: docs/, the README, the config's
and the benchmarks' Markdown) as ``path::test_name`` exists; every constant quoted
there as ``himo.<module>.<NAME> = <value>`` in backticks has that value; every
Markdown link there names a file of the repository and, after ``#``, a heading of
that file; docs/MATH.md's section "Tolerances and tie rules" quotes every constant of
:mod:`himo.tolerances` and names its functions; docs/README.md indexes every file of docs/; the README holds the marks
between which ``make readme`` writes the replication summary.
"""

from __future__ import annotations

import ast
import importlib
import io
import os
import re
import subprocess
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MATH = ROOT / "docs/MATH.md"
DOCS_INDEX = ROOT / "docs/README.md"
README = ROOT / "README.md"
#: The Markdown documentation whose links, test names and constants are checked:
#: docs/*.md and these.
DOCUMENTATION = (README, ROOT / "config/README.md", ROOT / "benchmarks/RESULTS.md")
#: What is scanned for references: folders and files at the repository root.
SCANNED = ("src", "workflow", "config", "tests", "benchmarks", "docs", "README.md", "Makefile")
TEXT_SUFFIXES = {".py", ".smk", ".yaml", ".yml", ".md", ".rst", ".txt", ".toml", ".json", ".cfg"}
TEXT_NAMES = {"Snakefile", "Makefile"}
#: Files the workflow writes, which count as existing: path -> the rule file that
#: declares it as an output (checked by test_generated_files_are_workflow_outputs).
GENERATED = {"figures/lift.png": "workflow/rules/lift.smk",
             "results/claims.md": "workflow/rules/claims.smk",
             "results/replication.md": "workflow/rules/replication.smk"}
#: This file's own examples below are made-up references on purpose.
SELF = Path(__file__).resolve()

REFERENCE = re.compile(r"(?<![\w./{}$*<>-])((?:\.\.?/)*(?:[\w-][\w.-]*/)*[\w-][\w.-]*\.md)(?![\w/])")
URL = re.compile(r"\w+://\S+")
OUTPUT_OPTION = re.compile(r"--md[= ]\s*$")
IDENTITY_CITATION = re.compile(r"\bidentit(?:y|ies)\s+(\d+\b(?:\s*(?:,|and|&|-|–|to)\s*\d+\b)*)", re.IGNORECASE)
IDENTITY_HEADING = re.compile(r"^#{2,4} Identity (\d+):", re.MULTILINE)
TEST_NAME = re.compile(r"((?:tests|src)/[\w/.-]+\.py)::(\w+)")
CONSTANT = re.compile(r"`(himo(?:\.\w+)+)\s*=\s*([^`]+)`")
#: The heading of docs/MATH.md's section on :mod:`himo.tolerances`.
TOLERANCES_HEADING = re.compile(r"^## (?:\d+\. )?Tolerances and tie rules$", re.MULTILINE)
#: A Markdown link ``[text](target)`` (an image's too); URLs are left alone.
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Mention:
    file: Path
    line: int
    text: str

    def where(self) -> str:
        return f"{self.file.relative_to(ROOT).as_posix()}:{self.line}"


# ------------------------------------------------------------------ scanning
def line_at(text: str, offset: int, first_line: int = 1) -> int:
    """The line number of character ``offset`` of ``text``, which starts at ``first_line``."""
    return first_line + text.count("\n", 0, offset)


def repository_files() -> set[Path]:
    """The repository's files: tracked ones and new ones git does not ignore."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode()
        files = {ROOT / name for name in listed.split("\0") if name}
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file but built ones
        files = {p for p in ROOT.rglob("*") if not any(part.startswith(".") or part == "__pycache__"
                                                        or part.endswith(".egg-info") for part in p.parts)}
    return {p for p in files if p.is_file()}


def scanned_files(files: set[Path]) -> list[Path]:
    roots = [ROOT / name for name in SCANNED]
    return sorted(
        p for p in files
        if any(p == r or r in p.parents for r in roots)
        and (p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES)
        and p != SELF
    )


def text_segments(path: Path, text: str) -> list[tuple[int, str]]:
    """``(first line, text)`` of the parts of a file that can cite a file: for Python,
    its strings and comments; for anything else, all of it."""
    if path.suffix != ".py":
        return [(1, text)]
    kinds = {tokenize.STRING, tokenize.COMMENT} | {getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return [(1, text)]
    return [(tok.start[0], tok.string) for tok in tokens if tok.type in kinds]


def find_references(path: Path, text: str) -> list[Mention]:
    """The ``.md`` file names cited in ``text`` (the contents of ``path``)."""
    found = []
    for first_line, segment in text_segments(path, text):
        segment = URL.sub(lambda m: " " * len(m.group()), segment)
        for m in REFERENCE.finditer(segment):
            line_start = segment.rfind("\n", 0, m.start()) + 1
            if OUTPUT_OPTION.search(segment[line_start:m.start()]):
                continue
            found.append(Mention(path, line_at(segment, m.start(), first_line), m.group(1)))
    return list(dict.fromkeys(found))  # a Markdown link [X.md](X.md) is one reference


def find_identity_citations(path: Path, text: str) -> list[tuple[Mention, list[int]]]:
    """Each mention of "identity N" (or "identities N and M", "N-M") with its numbers."""
    found = []
    for first_line, segment in text_segments(path, text):
        for m in IDENTITY_CITATION.finditer(segment):
            numbers = []
            for part in re.finditer(r"(\d+)(?:\s*(?:-|–|to)\s*(\d+))?", m.group(1)):
                low, high = int(part.group(1)), int(part.group(2) or part.group(1))
                numbers += range(low, high + 1)
            found.append((Mention(path, line_at(segment, m.start(), first_line), m.group(0)), numbers))
    return found


def resolve(mention: Mention, files: set[Path]) -> bool:
    """Whether a reference names a repository file (from the citing folder or the
    root) or a generated one."""
    for base in (mention.file.parent, ROOT):
        target = Path(os.path.normpath(base / mention.text))
        if target in files:
            return True
        if ROOT in target.parents and target.relative_to(ROOT).as_posix() in GENERATED:
            return True
    return False


@pytest.fixture(scope="module")
def repository():
    files = repository_files()
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in scanned_files(files)}
    return files, texts


def defined_identities() -> list[int]:
    return [int(n) for n in IDENTITY_HEADING.findall(MATH.read_text(encoding="utf-8"))]


def docs_texts() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))}


def documentation_texts() -> dict[Path, str]:
    """docs/*.md and :data:`DOCUMENTATION`."""
    return {**docs_texts(), **{p: p.read_text(encoding="utf-8") for p in DOCUMENTATION}}


def docs_matches(pattern: re.Pattern) -> list[tuple[Mention, re.Match]]:
    """Every match of ``pattern`` in the documentation, with where it is."""
    return [(Mention(path, line_at(text, m.start()), m.group(0)), m)
            for path, text in documentation_texts().items() for m in pattern.finditer(text)]


def without_code_blocks(text: str) -> str:
    """``text`` with its fenced code blocks blanked (their lines kept, so line numbers hold)."""
    return FENCE.sub(lambda m: "\n" * m.group().count("\n"), text)


def heading_anchors(text: str) -> set[str]:
    """The anchors a Markdown renderer gives the headings of ``text``, as GitHub makes
    them: lower case, punctuation but ``-`` and ``_`` dropped, spaces to ``-``; a
    repeated heading gets ``-1``, ``-2``, ..."""
    anchors: set[str] = set()
    for title in HEADING.findall(without_code_blocks(text)):
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


def broken_link(source: Path, target: str, files: set[Path]) -> str | None:
    """Why the link ``target`` in the Markdown file ``source`` does not resolve, or None."""
    path, _, anchor = target.partition("#")
    linked = Path(os.path.normpath(source.parent / path)) if path else source
    generated = ROOT in linked.parents and linked.relative_to(ROOT).as_posix() in GENERATED
    if linked not in files and not linked.is_dir() and not generated:
        return "no such file"
    if generated:
        return None
    if anchor and anchor not in heading_anchors(linked.read_text(encoding="utf-8")):
        return f"no heading #{anchor} in {linked.relative_to(ROOT).as_posix()}"
    return None


def fail_listing(title: str, problems: list[str]) -> None:
    """Fail with one line per problem (``file:line: ...``), if there are any."""
    if problems:
        pytest.fail(f"{title}:\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)


# --------------------------------------------------------------- the checks
def test_every_cited_markdown_file_exists(repository):
    files, texts = repository
    references = [m for path, text in texts.items() for m in find_references(path, text)]
    assert len(references) > 10, "the scan found almost no references: is the pattern broken?"
    fail_listing("cited Markdown files that are not in the repository",
                 [f"{m.where()}: cites {m.text!r}" for m in references if not resolve(m, files)])


def test_every_cited_identity_is_defined_in_math_md(repository):
    """In every file that cites docs/MATH.md, each "identity N" names an N it defines."""
    _, texts = repository
    defined = set(defined_identities())
    citing = {path: text for path, text in texts.items() if "MATH.md" in text}
    assert ROOT / "src/himo/solver/steps.py" in citing, "the solver's citations were not seen"
    citations = [(m, n) for path, text in citing.items() for m, numbers in find_identity_citations(path, text)
                 for n in numbers]
    assert citations, "no identity citation found"
    fail_listing(f"identities cited but not defined in docs/MATH.md (it defines {sorted(defined)})",
                 [f"{m.where()}: cites identity {n} ({m.text!r})" for m, n in citations if n not in defined])


def test_math_md_numbers_its_identities_without_gaps():
    numbers = defined_identities()
    assert numbers == list(range(1, len(numbers) + 1)), f"identities in docs/MATH.md: {numbers}"
    assert len(numbers) >= 9


def test_tests_named_in_the_docs_exist():
    named = docs_matches(TEST_NAME)
    assert named, "docs/ names no test"
    missing = []
    for mention, m in named:
        test_file, name = ROOT / m.group(1), m.group(2)
        pattern = re.compile(rf"^\s*(?:async\s+)?def {name}\(|^class {name}\b", re.MULTILINE)
        if not (test_file.is_file() and pattern.search(test_file.read_text(encoding="utf-8"))):
            missing.append(f"{mention.where()}: names {mention.text}")
    fail_listing("tests named in docs/ that do not exist", missing)


def test_constants_quoted_in_the_docs_have_their_values():
    quoted = docs_matches(CONSTANT)
    assert quoted, "docs/ quotes no constant"
    wrong = []
    for mention, m in quoted:
        module, _, name = m.group(1).rpartition(".")
        actual = getattr(importlib.import_module(module), name)
        if actual != ast.literal_eval(m.group(2).strip()):
            wrong.append(f"{mention.where()}: {mention.text}, but the code has {actual!r}")
    fail_listing("constants quoted in docs/ that differ from the code", wrong)


def tolerance_names() -> tuple[list[str], list[str]]:
    """The constants (upper-case names) and the public functions of :mod:`himo.tolerances`."""
    module = importlib.import_module("himo.tolerances")
    constants = [name for name in vars(module) if name.isupper() and not name.startswith("_")]
    functions = [name for name, value in vars(module).items() if callable(value) and not name.startswith("_")
                 and getattr(value, "__module__", None) == module.__name__]
    return constants, functions


def math_section(heading: re.Pattern) -> str:
    """The text of docs/MATH.md's section under ``heading``, up to the next section."""
    text = MATH.read_text(encoding="utf-8")
    found = heading.search(text)
    assert found, f"docs/MATH.md has no section {heading.pattern!r}"
    end = text.find("\n## ", found.end())
    return text[found.start():end if end >= 0 else len(text)]


def test_every_tolerance_is_named_in_math_md():
    """Each constant of himo.tolerances is quoted with its value (`himo.tolerances.NAME =
    value`, whose value test_constants_quoted_in_the_docs_have_their_values checks) in
    the section "Tolerances and tie rules" of docs/MATH.md, and each function is named there."""
    section = math_section(TOLERANCES_HEADING)
    constants, functions = tolerance_names()
    assert len(constants) >= 6 and functions, "himo.tolerances lost its constants: is the scan broken?"
    missing = [f"`himo.tolerances.{name} = <value>`" for name in constants
               if not re.search(rf"`himo\.tolerances\.{name}\s*=", section)]
    missing += [f"`himo.tolerances.{name}`" for name in functions if f"`himo.tolerances.{name}`" not in section]
    fail_listing("docs/MATH.md, 'Tolerances and tie rules', does not name", missing)


def test_every_link_in_the_documentation_resolves(repository):
    files, _ = repository
    links = [(Mention(path, line_at(text, m.start()), m.group(1)), m.group(1))
             for path, text in documentation_texts().items()
             for m in LINK.finditer(without_code_blocks(text)) if not URL.match(m.group(1))]
    assert len(links) > 20, "the scan found almost no links: is the pattern broken?"
    problems = [(m, broken_link(m.file, target, files)) for m, target in links]
    fail_listing("links that do not resolve", [f"{m.where()}: ({m.text}): {why}" for m, why in problems if why])


def test_readme_has_the_replication_summary_marks():
    """``make readme`` replaces what lies between the two marks: each once, in order."""
    from himo.verdicts.replication import README_END, README_START

    text = README.read_text(encoding="utf-8")
    assert text.count(README_START) == 1 and text.count(README_END) == 1
    assert text.index(README_START) < text.index(README_END)


def test_docs_index_lists_every_docs_file():
    linked = set(re.findall(r"\]\(([^)#\s]+)", DOCS_INDEX.read_text(encoding="utf-8")))
    unlisted = [p.name for p in docs_texts() if p != DOCS_INDEX and p.name not in linked]
    assert not unlisted, f"docs/README.md does not link {unlisted}"


@pytest.mark.parametrize("path, rule_file", sorted(GENERATED.items()))
def test_generated_files_are_workflow_outputs(path, rule_file):
    text = (ROOT / rule_file).read_text(encoding="utf-8")
    assert "output:" in text and f'"{path}"' in text[text.index("output:"):], (
        f"{rule_file} does not declare {path} as an output: remove it from GENERATED"
    )


# ------------------------------------------------------ the finder on samples
def test_references_are_found_with_their_lines():
    text = "first line\nsee docs/MATH.md, identity 4, and (../README.md)\n`spec/PAPER-TARGETS.md` and MATH.md\n"
    found = [(m.line, m.text) for m in find_references(ROOT / "docs/x.md", text)]
    assert found == [(2, "docs/MATH.md"), (2, "../README.md"), (3, "spec/PAPER-TARGETS.md"), (3, "MATH.md")]


def test_what_is_not_a_reference():
    text = ("himo claims a.nc --json c.json --md claims.md\n--md=OUT.md\nhttps://example.org/notes.md\n"
            "results/<key>/notes.md {output.md} *.md a `.md` file\n")
    assert find_references(ROOT / "README.md", text) == []


def test_python_code_is_not_read_but_its_strings_and_comments_are():
    source = ('"""Docstring citing spec/MATH.md."""\nwith open(args.md) as f:  # see docs/CLAIMS.md\n'
              '    f.write(f"c{i}.md")\n')
    found = [(m.line, m.text) for m in find_references(ROOT / "src/x.py", source)]
    assert found == [(1, "spec/MATH.md"), (2, "docs/CLAIMS.md")]


def test_resolution_from_the_citing_folder_or_the_root():
    files = {ROOT / "docs/MATH.md", ROOT / "README.md"}
    assert resolve(Mention(ROOT / "docs/README.md", 1, "MATH.md"), files)
    assert resolve(Mention(ROOT / "docs/README.md", 1, "../README.md"), files)
    assert resolve(Mention(ROOT / "src/himo/solver/steps.py", 1, "docs/MATH.md"), files)
    assert not resolve(Mention(ROOT / "src/himo/solver/steps.py", 1, "MATH.md"), files)
    assert not resolve(Mention(ROOT / "src/himo/x.py", 1, "spec/MATH.md"), files)
    assert resolve(Mention(ROOT / "README.md", 1, "results/claims.md"), files)


def test_heading_anchors_as_github_makes_them():
    text = ("# The mathematics\n## 6. Numerical choices of the solver\n### The bounded step (`step_rule: bounded`)\n"
            "```\n# not a heading\n```\n## Tested by\n## Tested by\n")
    assert heading_anchors(text) == {"the-mathematics", "6-numerical-choices-of-the-solver",
                                     "the-bounded-step-step_rule-bounded", "tested-by", "tested-by-1"}


def test_broken_links_are_found():
    files = {ROOT / "docs/MATH.md", ROOT / "README.md"}
    assert broken_link(ROOT / "README.md", "docs/MATH.md#4-the-erratum-in-algorithm-1", files) is None
    assert broken_link(ROOT / "docs/MATH.md", "#convergence-criterion", files) is None
    assert broken_link(ROOT / "docs/MATH.md", "../README.md", files) is None
    assert broken_link(ROOT / "README.md", "docs/NOTES.md", files) == "no such file"
    assert broken_link(ROOT / "README.md", "docs/MATH.md#no-such-section", files) == (
        "no heading #no-such-section in docs/MATH.md")


def test_identity_citations_and_ranges():
    text = "docs/MATH.md, identity 4\nMATH.md identities 2 and 3; identities 7-9\nsp.identity(n) identity 1e-3"
    found = [(m.line, numbers) for m, numbers in find_identity_citations(ROOT / "a.md", text)]
    assert found == [(1, [4]), (2, [2, 3]), (2, [7, 8, 9])]
