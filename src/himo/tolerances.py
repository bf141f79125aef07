"""The project's tie tolerances: how close two numbers must be to count as equal, each named once."""

#: Two Kendall taus closer than this are the same (results/replication.md compares
#: HIMO's tau against each reference order with its tau against the DP order).
TAU_ATOL = 1e-9
