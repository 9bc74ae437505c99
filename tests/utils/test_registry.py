import pytest

from densepose_ext.utils.registry import NamedRegistry, RegistryDictView


def test_named_registry_names_errors_and_dict_view():
    registry = NamedRegistry("TEST_THINGS", "thing type (THING.TYPE)")

    @registry.register()
    def plain():
        return "plain"

    @registry.register_as("odd-name")
    def other():
        return "other"

    assert registry.names() == ["odd-name", "plain"]
    assert registry.get("odd-name")() == "other" and "plain" in registry
    with pytest.raises(KeyError, match=r"thing type \(THING.TYPE\) 'nope'; known: \['odd-name'"):
        registry.get("nope")
    with pytest.raises(AssertionError, match="already registered"):
        registry.register_as("plain")(other)

    view = RegistryDictView(registry)
    assert set(view) == {"odd-name", "plain"} and len(view) == 2 and view["plain"] is plain
    view["third"] = plain  # the former dicts were extended by assignment
    assert registry.get("third") is plain
    with pytest.raises(KeyError, match="known"):
        view["nope"]
