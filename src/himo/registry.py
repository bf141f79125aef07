"""A registry of named builders: what ``himo.envs`` (environments) and
``himo.envs.features`` (feature sets) register their functions in, by a decorator."""

from __future__ import annotations

from typing import Callable, TypeVar

Builder = TypeVar("Builder", bound=Callable)


class Registry(dict):
    """``{name: builder}`` of one ``kind`` of thing (``"environment"``, ``"feature set"``)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str) -> Callable[[Builder], Builder]:
        """Decorator: register ``builder`` under ``name``; another builder under a taken name
        is an error (the same one again is not: a module imported twice)."""

        def decorate(builder: Builder) -> Builder:
            if name in self and self[name] is not builder:
                raise ValueError(f"a {self.kind} named {name!r} is already registered")
            self[name] = builder
            return builder

        return decorate

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self)
