"""The registry of named builders (himo.registry) that environments and feature sets share."""

import pytest

from himo.registry import Registry


def test_a_name_holds_one_builder_and_the_names_are_sorted():
    registry = Registry("widget")

    @registry.register("b")
    def build_b():
        return "b"

    assert registry.register("a")(len) is len
    assert registry.register("b")(build_b) is build_b  # the same builder again (a second import)
    assert registry.names() == ["a", "b"] and registry["b"]() == "b"
    with pytest.raises(ValueError, match="^a widget named 'b' is already registered$"):
        registry.register("b")(len)
