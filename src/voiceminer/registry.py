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
_plugin_entry_points: list[Any] | None = None


class Registry:
    """A name -> factory table. Names are stable: a behaviour change gets a new name."""

    def __init__(self, kind: str, builtin: tuple[str, ...] = _BUILTIN_MODULES) -> None:
        self.kind = kind
        self.builtin = builtin  # the package's modules whose import registers its own items of this kind
        self._items: dict[str, Any] = {}
        self._loaded = False

    def _load(self) -> None:
        """Import this kind's built-in modules and every plugin, once: a command that reads files
        need not import the pipeline's stages (numpy, the flags' regular expressions) to find a reader."""
        if not self._loaded:
            self._loaded = True
            for module in self.builtin:
                import_module(module)
        _load_entry_points()

    def register(self, name: str) -> Callable[[Any], Any]:
        def decorator(obj: Any) -> Any:
            if name in self._items and self._items[name] is not obj:
                raise PipelineError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> Any:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise PipelineError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._items

    def registered_now(self, name: str) -> bool:
        """Whether ``name`` is registered already, without importing the built-in modules and plugins."""
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


collectors = Registry("collector", ("voiceminer.collectors",))
presets = Registry("preset", ("voiceminer.collectors",))
stages = Registry("stage", ("voiceminer.pipeline",))
reporters = Registry("reporter")


def load_plugins() -> None:
    """Import the built-in modules and every ``voiceminer.plugins`` entry point once."""
    for module in _BUILTIN_MODULES:
        import_module(module)
    _load_entry_points()


def _load_entry_points() -> None:
    """Import every ``voiceminer.plugins`` entry point once (a plugin may register items of any kind)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in plugin_entry_points():
        ep.load()


def plugin_entry_points() -> list[Any]:
    """The installed ``voiceminer.plugins`` entry points, looked up once per process (reading every
    installed package's metadata takes a few milliseconds each time)."""
    global _plugin_entry_points
    if _plugin_entry_points is None:
        _plugin_entry_points = list(entry_points(group="voiceminer.plugins"))
    return _plugin_entry_points
