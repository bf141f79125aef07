"""MDPs that users already hold, imported into himo's model.

- :func:`from_gymnasium`: a Gymnasium environment with a tabular model, such as
  FrozenLake, CliffWalking or Taxi (:mod:`himo.importers.gymnasium`; the package is
  imported only when an environment is made);
- :func:`from_arrays` / :func:`load_arrays`: arrays in pymdptoolbox's or QuantEcon's
  layout (:mod:`himo.importers.arrays`);
- :func:`import_mdp`: any source by its name, as ``himo import`` reads it.
"""

from __future__ import annotations

from himo.errors import HimoError
from himo.importers.arrays import LAYOUTS, ArrayLayoutError, from_arrays, load_arrays
from himo.importers.gymnasium import GymnasiumError, from_gymnasium
from himo.mdp import MDP

#: The prefix of a Gymnasium environment id as a source (``gymnasium:FrozenLake-v1``).
GYMNASIUM_PREFIX = "gymnasium:"


def import_mdp(source: str, *, layout: str | None = None, start: str | None = None,
               params: dict | None = None) -> MDP:
    """The MDP named by ``source``: ``gymnasium:ENV_ID`` (with ``params`` for
    ``gymnasium.make``), a ``.npz`` file of arrays in ``layout`` (with ``start``, a
    state label or index), or an MDP file (netCDF, dense or sparse form)."""
    kind = source_kind(source)
    _refuse_options(kind, layout=layout, start=start, params=params)
    if kind == "gymnasium":
        return from_gymnasium(source.removeprefix(GYMNASIUM_PREFIX), **(params or {}))
    if kind == "arrays":
        if layout is None:
            raise HimoError(f"{source}: arrays need --layout ({' or '.join(LAYOUTS)})")
        return load_arrays(source, layout, start=start)
    from himo.mdpfile import load_mdp

    return load_mdp(source)


def source_kind(source: str) -> str:
    """``"gymnasium"``, ``"arrays"`` (a ``.npz`` file) or ``"netcdf"``."""
    if source.startswith(GYMNASIUM_PREFIX):
        return "gymnasium"
    return "arrays" if source.lower().endswith(".npz") else "netcdf"


#: Which options each kind of source takes.
_OPTIONS = {"gymnasium": {"params"}, "arrays": {"layout", "start"}, "netcdf": set()}
_WHAT = {"gymnasium": "a gymnasium:ENV_ID source", "arrays": "a .npz file of arrays", "netcdf": "an MDP file"}
_FLAG = {"params": "--param", "layout": "--layout", "start": "--start"}


def _refuse_options(kind: str, **options) -> None:
    for option, value in options.items():
        if value not in (None, {}) and option not in _OPTIONS[kind]:
            takers = " and ".join(_WHAT[k] for k, taken in _OPTIONS.items() if option in taken)
            raise HimoError(f"{_FLAG[option]} is for {takers}, not for {_WHAT[kind]}")


__all__ = ["GYMNASIUM_PREFIX", "LAYOUTS", "ArrayLayoutError", "GymnasiumError", "from_arrays", "from_gymnasium",
           "import_mdp", "load_arrays", "source_kind"]
