"""Named, versioned factories for collectors, presets, stages, reporters and stores.

Built-in parts register through the same mechanism third-party plugins use:
a plugin package exposes an entry point in the ``voiceminer.plugins`` group
whose target is a module; importing that module runs its ``@register`` calls.

>>> r = Registry("example")
>>> @r.register("hello.v1")
... def make_hello():
...     return "hi"
>>> r.get("hello.v1")()
'hi'
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, Callable, Iterator

from .errors import PipelineError

__all__ = ["Registry", "collectors", "presets", "stages", "reporters", "load_plugins"]

_BUILTIN_MODULES = (
    "voiceminer.collectors",
    "voiceminer.pipeline",
)
_plugins_loaded = False


class Registry:
    """A name -> factory table. Names are stable: a behaviour change gets a new name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[Any], Any]:
        def decorator(obj: Any) -> Any:
            if name in self._items and self._items[name] is not obj:
                raise PipelineError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> Any:
        load_plugins()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise PipelineError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


collectors = Registry("collector")
presets = Registry("preset")
stages = Registry("stage")
reporters = Registry("reporter")


def load_plugins() -> None:
    """Import the built-in modules and every ``voiceminer.plugins`` entry point once."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for module in _BUILTIN_MODULES:
        import_module(module)
    for ep in entry_points(group="voiceminer.plugins"):
        ep.load()
