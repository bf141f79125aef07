"""Registered environments: a name maps to a builder that returns an :class:`~himo.MDP`.

The paper's environments are registered here: ``hanoi`` (Fig. 1), ``fourrooms``
(Fig. 2) and ``wormhole`` (Fig. S1); ``grid`` builds a grid world from any text map
file, or an open ``rows x cols`` room. A new environment of another kind is a
function returning an MDP, registered with :func:`register_env`::

    from himo.envs import register_env

    @register_env("chain")
    def build_chain(n: int = 5) -> MDP: ...

Builders take keyword parameters only; :func:`make_env` checks the names against the
builder's signature so that a typo is an error, not a silently ignored argument.
"""

from __future__ import annotations

import inspect
from typing import Callable

from himo.errors import ParameterError, UnknownEnvironmentError
from himo.mdp import MDP
from himo.registry import Registry

_REGISTRY = Registry("environment")


def register_env(name: str) -> Callable[[Callable[..., MDP]], Callable[..., MDP]]:
    """Decorator: register ``builder`` under ``name``."""
    return _REGISTRY.register(name)


def available_envs() -> list[str]:
    """Names of the registered environments, sorted."""
    return _REGISTRY.names()


def env_parameters(name: str) -> dict[str, object]:
    """The parameters a registered builder takes, with their defaults."""
    builder = _builder(name)
    return {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in inspect.signature(builder).parameters.values()
    }


def make_env(name: str, **params) -> MDP:
    """Build the environment registered under ``name`` with keyword ``params``."""
    builder = _builder(name)
    accepted = env_parameters(name)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ParameterError(
            f"environment {name!r} has no parameter(s) {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted) or 'none'}"
        )
    return builder(**params)


def _builder(name: str) -> Callable[..., MDP]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownEnvironmentError(
            f"unknown environment {name!r}; registered: {', '.join(available_envs())}"
        ) from None


# Importing the modules registers their builders.
from himo.envs import gridworld, hanoi  # noqa: E402,F401
