"""Errors that himo raises on bad input.

Every error names the rule that was broken and where (which state, which pair,
which line of a file, which config key), so that one line on stderr is enough to
fix the input. All derive from :class:`HimoError`, itself a ``ValueError``.
"""


class HimoError(ValueError):
    """Base class of himo's input errors."""


class MDPError(HimoError):
    """An MDP breaks a structural rule (probabilities, shapes, labels, start)."""


class MapError(HimoError):
    """A grid-world text map is malformed."""


class MDPFileError(HimoError):
    """An MDP netCDF file is malformed or misses a required part."""


class UnknownEnvironmentError(HimoError):
    """No environment is registered under the given name."""


class ParameterError(HimoError):
    """A solver or environment parameter is out of its range."""


class ConfigError(HimoError):
    """A workflow configuration breaks its schema or a rule of the runs it makes."""


class FeaturesError(HimoError):
    """A features array for a log-linear policy is malformed (shape, NaN, unavailable pairs)."""
