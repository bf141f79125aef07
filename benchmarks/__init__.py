"""himo benchmarks: exact HIMO per-iteration cost against the sparse-LU floor.

Run ``python -m benchmarks`` (quick) or ``python -m benchmarks --full``; see
:mod:`benchmarks.run`.
"""
