"""The ``himo`` command line: ``himo --help`` lists the subcommands.

Every subcommand reads and writes files at explicit paths. On bad input it prints
one line, ``himo: error: ...``, to stderr and exits with status 2 (:func:`exit_status`,
the one place that does); outputs are written atomically, so a failed command leaves
no file behind, whole or partial. Subcommands live beside what they run and register
with :func:`command`; an option two of them share is declared here once
(:func:`add_param_option`, :func:`add_form_option`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Sequence

import yaml

from himo.errors import HimoError

Command = Callable[[argparse.Namespace], None]
_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Command, str]] = {}


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]):
    """Register the decorated function as subcommand ``name``.

    ``arguments`` adds the subcommand's arguments to its parser; the decorated
    function runs it with the parsed namespace::

        def _hello_arguments(parser): parser.add_argument("who")

        @command("hello", "greet someone", _hello_arguments)
        def _hello(args): print("hello", args.who)
    """

    def register(run: Command) -> Command:
        _COMMANDS[name] = (arguments, run, help)
        return run

    return register


def add_param_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--param KEY=VALUE``, repeatable, read by :func:`parse_params`; ``help`` says
    whose parameter it is (a builder's, ``gymnasium.make``'s)."""
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help=help)


def parse_params(items: Sequence[str]) -> dict:
    """The values of :func:`add_param_option`:
    ``["n_disks=4", "map=x.txt"]`` -> ``{"n_disks": 4, "map": "x.txt"}`` (YAML scalars)."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise HimoError(f"--param takes KEY=VALUE, got {item!r}")
        params[key] = yaml.safe_load(value) if value else ""
    return params


# --------------------------------------------------------------------- commands
def _envs_args(parser: argparse.ArgumentParser) -> None:
    pass


@command("envs", "list the registered environments and their parameters", _envs_args)
def _envs(args: argparse.Namespace) -> None:
    from himo.envs import available_envs, env_parameters

    for name in available_envs():
        params = ", ".join(f"{k}={v!r}" for k, v in env_parameters(name).items())
        print(f"{name}: {params}")


def add_form_option(parser: argparse.ArgumentParser) -> None:
    """``--form``: the form of the MDP file a command writes (:func:`himo.mdpfile.save_mdp`)."""
    from himo.mdpfile import FORMS

    parser.add_argument("--form", choices=FORMS, default="auto",
                        help="MDP file form (default: dense unless too large)")


def _env_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="a registered environment (see 'himo envs')")
    parser.add_argument("out", help="the MDP file to write (netCDF)")
    add_param_option(parser, "a builder parameter, repeatable (e.g. --param n_disks=4)")
    add_form_option(parser)


@command("env", "write a registered environment as an MDP file", _env_args)
def _env(args: argparse.Namespace) -> None:
    from himo.envs import make_env
    from himo.mdpfile import save_mdp

    save_mdp(make_env(args.name, **parse_params(args.param)), args.out, form=args.form)


def _import_args(parser: argparse.ArgumentParser) -> None:
    from himo.importers import LAYOUTS

    parser.add_argument("source", metavar="SOURCE",
                        help="an MDP file (netCDF, e.g. written with xarray), a FILE.npz of arrays "
                             "(with --layout), or gymnasium:ENV_ID (e.g. gymnasium:FrozenLake-v1)")
    parser.add_argument("out", help="the MDP file to write")
    parser.add_argument("--layout", choices=LAYOUTS, default=None,
                        help="the layout of the arrays in FILE.npz (needed for .npz files)")
    parser.add_argument("--start", default=None, metavar="STATE",
                        help="FILE.npz: the start state, a label or an index (default 0, or the "
                             "file's key start_distribution)")
    add_param_option(parser, "gymnasium: a keyword of gymnasium.make, repeatable (e.g. --param is_slippery=false)")
    add_form_option(parser)


@command("import", "read an MDP file, arrays (pymdptoolbox, QuantEcon) or a Gymnasium "
                   "environment and write it in himo's form", _import_args)
def _import(args: argparse.Namespace) -> None:
    from himo.importers import import_mdp
    from himo.mdpfile import save_mdp

    mdp = import_mdp(args.source, layout=args.layout, start=args.start, params=parse_params(args.param))
    save_mdp(mdp, args.out, form=args.form)


def _add_solver_settings(parser: argparse.ArgumentParser) -> None:
    """One option per solver setting (``--max-iter`` for ``max_iter``), from its definition."""
    from himo.solver.settings import cli_flag, setting_schemas

    types = {"number": float, "integer": int, "string": str}
    for name, schema in setting_schemas().items():
        parser.add_argument(
            cli_flag(name), dest=name, type=types[schema["type"]], choices=schema.get("enum"),
            default=schema["default"], metavar=None if "enum" in schema else name.upper(),
            help=f"{schema['description']} (default: {schema['default']})".replace("%", "%%"),
        )


#: ``--counters``: store C and I when the MDP is small enough (auto), always, never.
COUNTERS = {"auto": None, "yes": True, "no": False}


def _solve_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mdp", help="an MDP file (netCDF, dense or sparse form)")
    parser.add_argument("out", help="the trajectory file to write (netCDF)")
    _add_solver_settings(parser)
    parser.add_argument("--snapshots-between", type=int, default=3,
                        help="snapshots of C and I between the first and last (default 3)")
    parser.add_argument("--counters", choices=list(COUNTERS), default="auto",
                        help="store C and I (auto: when the MDP is small enough)")
    parser.add_argument("--progress", action="store_true", help="report iterations on stderr")
    parser.add_argument("--features", default=None, metavar="FEATURES",
                        help="run a log-linear policy pi ~ exp(phi . theta) from theta = 0 with the natural path "
                             "gradient in theta: a registered feature set (tabular, tabular+room-direction, "
                             "tabular+cluster-move, ...) or a netCDF file with phi(pair, feature) or "
                             "phi(state, action, feature)")
    parser.add_argument("--provenance", default=None,
                        help="JSON object of extra attributes to record (e.g. the workflow config)")


@command("solve", "run HIMO on an MDP file and write its trajectory", _solve_args)
def _solve(args: argparse.Namespace) -> None:
    from himo import solve
    from himo.io import write_netcdf
    from himo.envs.features import load_features
    from himo.mdpfile import load_mdp
    from himo.solver.settings import setting_schemas

    provenance = _json_object(args.provenance, "--provenance") if args.provenance else None
    mdp = load_mdp(args.mdp)
    features = None if args.features is None else load_features(mdp, args.features)
    trajectory = solve(
        mdp, features=features,
        **{name: getattr(args, name) for name in setting_schemas()},
        snapshots_between=args.snapshots_between,
        store_counters=COUNTERS[args.counters],
        progress=args.progress, provenance=provenance,
    )
    write_netcdf(trajectory, args.out)
    print(solve_summary(trajectory, args.out), file=sys.stderr)


def solve_summary(trajectory, out: str) -> str:
    """What ``himo solve`` reports of a run written to ``out``: how it stopped, its value."""
    reason = trajectory.attrs["stop_reason"]
    text = (f"{out}: {reason} after {trajectory.attrs['n_iterations']} iterations, "
            f"objective {float(trajectory.objective[-1]):.8g} "
            f"(optimum {trajectory.attrs['optimal_objective']:.8g})")
    if reason in ("stalled", "ill_conditioned"):
        text += f"\n  {trajectory.attrs['stop_note']}; --dependent argmax avoids this"
    elif reason == "underflow":
        text += f"\n  {trajectory.attrs['stop_note']}; a smaller --step avoids this"
    elif reason == "max_iter":
        text += (f"\n  {trajectory.attrs['stop_note']}: the policy flow is still moving; a larger --step "
                 f"(planning time per iteration) or --max-iter lets it finish")
    return text


def _json_object(text: str, where: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise HimoError(f"{where} is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise HimoError(f"{where} must be a JSON object")
    return {str(k): v if isinstance(v, (str, int, float)) else json.dumps(v, sort_keys=True) for k, v in value.items()}


# ------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    from himo import __version__

    parser = argparse.ArgumentParser(
        prog="himo",
        description="Hierarchical model-based policy optimization (the natural path gradient).",
    )
    parser.add_argument("--version", action="version", version=f"himo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_arguments, _, help_text) in _COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _load_plugins()
    args = build_parser().parse_args(argv)
    return exit_status(lambda: _COMMANDS[args.command][1](args))


def exit_status(run: Callable[[], None]) -> int:
    """Run a command and return its exit status: 0, or 2 after printing one line
    ``himo: error: ...`` to stderr for bad input (a :class:`~himo.errors.HimoError`) or a
    file that cannot be read or written (an ``OSError``: an unwritable output folder,
    a full disk; no traceback). The one place that prints errors: :func:`main` and
    ``python -m himo.verdicts.replication`` run through it."""
    try:
        run()
    except HimoError as err:
        print(f"himo: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"himo: error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    return 0


def _load_plugins() -> None:
    """Import the modules that add subcommands: per-run measures, cross-run verdicts, figures."""
    import importlib

    for module in ("himo.measures.cli", "himo.verdicts.cli", "himo.plotting.cli"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name is None or not module.startswith(err.name):
                raise
