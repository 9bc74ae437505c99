"""detectron2's `Registry` with explicit names, lookup errors that list the known names, and a
dict view for code written against the dictionaries the registries replaced."""

from collections.abc import MutableMapping
from typing import Any, Callable, Iterator, List

from detectron2.utils.registry import Registry

__all__ = ["NamedRegistry", "RegistryDictView"]


class NamedRegistry(Registry):
    """A `Registry` whose entries may carry names other than `obj.__name__` (the original's
    config values, e.g. "random_k" or "dp_segm"); `what` names the config key in errors."""

    def __init__(self, name: str, what: str):
        super().__init__(name)
        self.what = what

    def register_as(self, name: str) -> Callable[[Any], Any]:
        """Decorator registering its argument under `name`."""

        def wrap(obj: Any) -> Any:
            self._do_register(name, obj)
            return obj

        return wrap

    def names(self) -> List[str]:
        return sorted(name for name, _ in self)

    def get(self, name: str) -> Any:
        """The entry `name`; KeyError naming the config key and the known names otherwise."""
        if name not in self:
            raise KeyError(f"unknown {self.what} {name!r}; known: {self.names()}")
        return super().get(name)


class RegistryDictView(MutableMapping):
    """Deprecated: the name -> entry dict a registry replaced. Assignment registers."""

    def __init__(self, registry: NamedRegistry):
        self._registry = registry

    def __getitem__(self, name: str) -> Any:
        return self._registry.get(name)

    def __setitem__(self, name: str, obj: Any) -> None:
        self._registry.register_as(name)(obj)

    def __delitem__(self, name: str) -> None:
        raise TypeError("entries cannot be removed from a registry")

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry.names())

    def __len__(self) -> int:
        return len(self._registry.names())
