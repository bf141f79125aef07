"""Analysis of HIMO runs: the measures of the paper's section 4 and the claims' verdicts.

:mod:`himo.analysis.measures` computes PD, CD, their normalized forms and velocities,
priorities and the optimal path from a trajectory; :mod:`himo.analysis.claims` decides
each claim of ``spec/PAPER-TARGETS.md`` from measures datasets. The subcommands
``himo measures`` and ``himo claims`` live in :mod:`himo.analysis.cli`.
"""

from himo.analysis.measures import measures_dataset

__all__ = ["measures_dataset"]
