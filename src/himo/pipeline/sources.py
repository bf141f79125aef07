"""The package files a ``himo`` subcommand executes or reads: the code inputs of a job.

A workflow job is ``himo COMMAND ...``; its result can change whenever a file of
the package that the command runs changes, so those files are inputs of the job
and editing one reruns it (and everything downstream). They are found statically,
from the source, by one rule that can only err on the side of too many files:

**Modules.** ``himo`` runs :data:`ENTRY_POINT` (``himo.cli``, the ``[project.scripts]``
entry of pyproject.toml). From there the *import closure* is followed: a module
brings in every module of the package that it imports anywhere in its source (at
the top, inside functions, under ``if TYPE_CHECKING``), absolute or relative
(``import a.b``, ``from a import b``, ``from . import b``), every module whose full
name it writes as a string (``importlib.import_module("himo.measures.cli")``,
``resources.files("himo.envs")``), and the packages above each of these (importing
``himo.a.b`` executes ``himo/__init__.py`` and ``himo/a/__init__.py``). One part is
left out: the bodies of the *other* subcommands, the functions registered with
``@command("name", ...)`` (:func:`himo.cli.command`) for another name, which this
command never calls.

**Data files.** A file of the package that is not Python (a map, a style sheet) is
read by the modules that name it: a module names it when one of its string
constants is the file's name or the name of a folder between the file and its
package (``"himo.mplstyle"``, ``"maps"``). It belongs to a command when a module of
the command's closure names it. A data file that no module names (tests included:
a file only a test names is test data) belongs to every command.

Everything else (tests ``test_*.py``, caches, modules imported by nothing) is no
input. Third-party packages are not followed: their versions are pinned by
``requirements.lock`` and recorded in every result.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: The module the ``himo`` command runs (``[project.scripts]`` in pyproject.toml).
ENTRY_POINT = "himo.cli"

#: The decorator that registers a subcommand: ``@command("solve", help, arguments)``.
REGISTER = "command"

#: The directory of this package (``src/himo``).
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def command_sources(command: str, package_dir: str | Path = PACKAGE_DIR,
                    entry_point: str = ENTRY_POINT) -> list[str]:
    """The files ``himo COMMAND`` executes or reads (module docstring), sorted paths.

    ``package_dir`` is the top package's directory; its name is the package's
    name. Raises ``ValueError`` if no module of the closure registers ``command``.
    """
    package = _Package(Path(package_dir).resolve())
    modules = _import_closure(entry_point, package, command)
    if not any(command in package.module(name).commands for name in modules):
        raise ValueError(f"no module imported by `{package.name}` registers the subcommand {command!r}")
    named_here = set().union(*(package.module(name).strings for name in modules))
    named_anywhere = package.all_strings()
    data = [path for path, names in package.data_files().items()
            if names & named_here or not names & named_anywhere]
    return sorted(str(package.module(name).path) for name in modules) + sorted(str(p) for p in data)


def _import_closure(root: str, package: _Package, command: str) -> set[str]:
    """The modules of ``package`` that running module ``root`` as ``command`` executes."""
    closure: set[str] = set()
    pending = package.with_parents(root)
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        module = package.module(name)
        for imported in module.imports_when_running(command):
            pending.extend(package.with_parents(imported))
    return closure


# ------------------------------------------------------------------ the package
class _Package:
    """A package on disk, read once: its modules by name, and its data files."""

    def __init__(self, root: Path):
        self.root = root
        self.name = root.name
        files = [p for p in sorted(root.rglob("*")) if p.is_file() and not _ignored(p.relative_to(root))]
        self.module_paths = {_module_name(self.name, p.relative_to(root)): p for p in files if p.suffix == ".py"}
        self.data_paths = [p for p in files if p.suffix not in (".py", ".pyc")]
        self._modules: dict[str, _Module] = {}

    def module(self, name: str) -> _Module:
        if name not in self._modules:
            path = self.module_paths[name]
            self._modules[name] = _read_module(path, name, path.read_bytes())
        return self._modules[name]

    def with_parents(self, name: str) -> list[str]:
        """``a.b.c`` -> the modules among ``a``, ``a.b``, ``a.b.c`` that are in the package."""
        parts = name.split(".")
        names = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
        return [n for n in names if n in self.module_paths]

    def all_strings(self) -> set[str]:
        """The string constants of every Python file of the package (tests included)."""
        return set().union(*(self.module(name).strings for name in self.module_paths))

    def data_files(self) -> dict[Path, set[str]]:
        """``{data file: the names that name it}``: its own name and its folders' up to its package."""
        data = {}
        for path in self.data_paths:
            names, folder = {path.name}, path.parent
            while folder != self.root and not (folder / "__init__.py").is_file():
                names.add(folder.name)
                folder = folder.parent
            data[path] = names
        return data


def _ignored(relative: Path) -> bool:
    """Caches and hidden files are not part of the package."""
    return "__pycache__" in relative.parts or any(part.startswith(".") for part in relative.parts)


def _module_name(package: str, relative: Path) -> str:
    """``solver/loop.py`` -> ``himo.solver.loop``; ``solver/__init__.py`` -> ``himo.solver``."""
    parts = relative.with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((package, *parts))


@dataclass(frozen=True)
class _Module:
    """What one module's source says: its imports (per subcommand) and its strings."""

    path: Path
    imports: frozenset[str]  # outside the bodies of subcommands
    command_imports: dict[str, frozenset[str]]  # inside the body of each subcommand
    strings: frozenset[str]

    @property
    def commands(self) -> set[str]:
        return set(self.command_imports)

    def imports_when_running(self, command: str) -> frozenset[str]:
        """The imports outside every subcommand's body, and those in ``command``'s."""
        return self.imports | self.command_imports.get(command, frozenset())


# Cached by content, so that a file edited since is read again.
@cache
def _tree(path: Path, source: bytes) -> ast.Module:
    return ast.parse(source, filename=str(path))


@cache
def _read_module(path: Path, name: str, source: bytes) -> _Module:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imports, command_imports = set(), {}

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            command = _registered_command(child)
            if command is not None:
                command_imports[command] = frozenset(_imports_under(child, package))
                continue
            imports.update(_imports_of(child, package))
            visit(child)

    tree = _tree(path, source)
    visit(tree)
    strings = frozenset(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return _Module(path, frozenset(imports), command_imports, strings)


def _registered_command(node: ast.AST) -> str | None:
    """``"solve"`` for a function decorated ``@command("solve", ...)``, else None."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    for decorator in node.decorator_list:
        if (isinstance(decorator, ast.Call) and decorator.args
                and isinstance(decorator.args[0], ast.Constant) and isinstance(decorator.args[0].value, str)):
            func = decorator.func
            if (isinstance(func, ast.Name) and func.id == REGISTER) or (
                    isinstance(func, ast.Attribute) and func.attr == REGISTER):
                return decorator.args[0].value
    return None


def _imports_under(node: ast.AST, package: str) -> set[str]:
    return {name for child in ast.walk(node) for name in _imports_of(child, package)}


def _imports_of(node: ast.AST, package: str) -> set[str]:
    """The module names one node imports: import statements and strings that are module names."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        return {source} | {f"{source}.{alias.name}" for alias in node.names}
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_dotted_name(node.value):
        return {node.value}
    return set()


def _is_dotted_name(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))
