"""Analysis of HIMO runs: the measures of the paper's section 4 and the claims' verdicts.

:mod:`himo.analysis.measures` computes PD, CD, their normalized forms and velocities,
priorities, the optimal path and the state graph from a trajectory;
:mod:`himo.analysis.states` reads the states of a measures dataset (roles, start,
goal, optimal path, state graph, rooms). :mod:`himo.analysis.claims` holds the
paper's claims, each one object (``docs/CLAIMS.md``), :mod:`himo.analysis.judging`
decides them from measures datasets and :mod:`himo.analysis.report` writes the
verdicts. The subcommands ``himo measures`` and ``himo claims`` live in
:mod:`himo.analysis.cli`.

(The package imports none of its modules itself: every ``himo`` command loads
:mod:`himo.analysis.cli`, and an eager import here would make the measures code an
input of every workflow stage; see :mod:`himo.pipeline.sources`.)
"""
