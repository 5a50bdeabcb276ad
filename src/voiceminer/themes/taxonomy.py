"""Theme taxonomies: load, validate and extend them from YAML, without code.

A taxonomy is two levels deep: a top-level theme says what a sentence is about
(``delivery``), a child names the cause (``delivery.late``). Each node has an
``id``, a ``label``, a ``description`` and ``examples`` (short customer phrases);
the zero-shot model reads only this text. The format is documented in
``corpora/taxonomy/README.md``; the default ships as ``cx_default.yaml``.

A team's file may start with ``extends: default`` (or a path) and then add
themes, override fields of existing ones by id (children merge by id) and drop
ids under ``remove:``.

>>> tax = load_taxonomy()
>>> tax["delivery.late"].parent
'delivery'
>>> tax.with_parents(["delivery.late", "price"])
['delivery', 'delivery.late', 'price']
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["Overlap", "Taxonomy", "Theme", "default_taxonomy_path", "load_taxonomy", "overlaps", "parent_of",
           "parse_taxonomy", "theme_centroids"]

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
_NODE_KEYS = {"id", "label", "description", "examples", "children"}


def default_taxonomy_path() -> Path:
    """``corpora/taxonomy/cx_default.yaml`` of the project."""
    return Path(__file__).resolve().parents[3] / "corpora" / "taxonomy" / "cx_default.yaml"


def parent_of(theme_id: str) -> str | None:
    """The parent id implied by a dotted child id.

    >>> parent_of("delivery.late"), parent_of("delivery")
    ('delivery', None)
    """
    return theme_id.rsplit(".", 1)[0] if "." in theme_id else None


@dataclass(frozen=True)
class Theme:
    """One node. ``parent`` is None for a top-level theme; ``children`` are child ids."""

    id: str
    label: str
    description: str
    examples: tuple[str, ...] = ()
    parent: str | None = None
    children: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """``"Label: description"``, what the zero-shot model embeds for the theme."""
        return f"{self.label}: {self.description}" if self.description else self.label


@dataclass(frozen=True)
class Taxonomy:
    """An ordered, validated set of themes (parents before their children)."""

    name: str
    themes: tuple[Theme, ...]
    source: str = ""
    _index: dict[str, Theme] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({t.id: t for t in self.themes})

    def __getitem__(self, theme_id: str) -> Theme:
        try:
            return self._index[theme_id]
        except KeyError:
            raise KeyError(f"theme {theme_id!r} is not in taxonomy {self.name!r}") from None

    def __contains__(self, theme_id: object) -> bool:
        return theme_id in self._index

    def __iter__(self) -> Iterator[Theme]:
        return iter(self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    @property
    def top(self) -> list[Theme]:
        """Top-level themes, in file order."""
        return [t for t in self.themes if t.parent is None]

    def children_of(self, theme_id: str) -> list[Theme]:
        return [self._index[c] for c in self[theme_id].children]

    def with_parents(self, ids: Iterable[str]) -> list[str]:
        """``ids`` plus the parents they imply, sorted and unique."""
        out = set()
        for i in ids:
            out.add(i)
            if parent_of(i):
                out.add(parent_of(i))
        return sorted(out)

    @property
    def sha256(self) -> str:
        """Hash of the content (ids, labels, descriptions, examples): identifies a version."""
        rows = [[t.id, t.label, t.description, list(t.examples)] for t in self.themes]
        return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy YAML; None (or ``"default"``) is the shipped default.

    Errors are :class:`~voiceminer.errors.ConfigError` naming the file and the theme id.

    >>> len(load_taxonomy().top) >= 12
    True
    """
    import yaml

    path = default_taxonomy_path() if path in (None, "default") else Path(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"taxonomy file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"taxonomy file {path} is not valid YAML: {exc}") from None
    return parse_taxonomy(raw, source=str(path), _seen=(str(Path(path).resolve()),))


def parse_taxonomy(raw: Any, source: str = "<taxonomy>", *, _seen: tuple[str, ...] = ()) -> Taxonomy:
    """Validate an already-parsed mapping (what the YAML holds).

    >>> parse_taxonomy({"themes": [{"id": "x", "label": "X", "description": "about x"}]}).ids
    ['x']
    >>> parse_taxonomy({"themes": [{"id": "x"}]})
    Traceback (most recent call last):
    ...
    voiceminer.errors.ConfigError: <taxonomy>: theme 'x': 'label' is missing
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: a taxonomy file must be a mapping with a 'themes' list")
    unknown = set(raw) - {"name", "version", "description", "themes", "extends", "remove"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level keys {sorted(unknown)}; "
                          "allowed: name, version, description, extends, themes, remove")
    nodes = raw.get("themes") or []
    if not isinstance(nodes, list):
        raise ConfigError(f"{source}: 'themes' must be a list of theme mappings")
    if raw.get("extends"):
        nodes = _extend(raw, source, _seen)
    elif not nodes:
        raise ConfigError(f"{source}: 'themes' is empty; list at least one theme or use 'extends: default'")
    themes = _flatten(nodes, source)
    return Taxonomy(name=str(raw.get("name") or Path(source).stem), themes=tuple(themes), source=source)


def _extend(raw: Mapping[str, Any], source: str, seen: tuple[str, ...]) -> list[dict]:
    base_ref = raw["extends"]
    base_path = default_taxonomy_path() if base_ref == "default" else (Path(source).parent / str(base_ref))
    if str(base_path.resolve()) in seen:
        raise ConfigError(f"{source}: 'extends: {base_ref}' makes a cycle")
    base = load_taxonomy(base_path) if base_ref != "default" else load_taxonomy(None)
    nodes = [_as_node(t, base) for t in base.top]
    removed = raw.get("remove") or []
    if not isinstance(removed, list):
        raise ConfigError(f"{source}: 'remove' must be a list of theme ids")
    for rid in removed:
        if rid not in base:
            raise ConfigError(f"{source}: 'remove' names theme {rid!r}, which {base.source} does not have")
        nodes = [n for n in nodes if n["id"] != rid]
        for n in nodes:
            n["children"] = [c for c in n["children"] if c["id"] != rid]
    for new in raw.get("themes") or []:
        _merge_into(nodes, new, source)
    return nodes


def _as_node(theme: Theme, tax: Taxonomy) -> dict:
    node = {"id": theme.id, "label": theme.label, "description": theme.description,
            "examples": list(theme.examples)}
    node["children"] = [_as_node(c, tax) | {"children": []} for c in tax.children_of(theme.id)]
    return node


def _merge_into(nodes: list[dict], new: Any, source: str) -> None:
    if not isinstance(new, Mapping) or "id" not in new:
        raise ConfigError(f"{source}: every theme needs an 'id'; got {new!r:.80}")
    match = next((n for n in nodes if n["id"] == new["id"]), None)
    if match is None:
        nodes.append(copy.deepcopy(dict(new)))
        return
    for key, value in new.items():
        if key == "children":
            match.setdefault("children", [])
            for child in value or []:
                _merge_into(match["children"], child, source)
        else:
            match[key] = value


def _flatten(nodes: list, source: str) -> list[Theme]:
    themes: list[Theme] = []
    seen: set[str] = set()
    for node in nodes:
        parent = _node(node, source, None, seen)
        kids = node.get("children") or []
        if not isinstance(kids, list):
            raise ConfigError(f"{source}: theme {parent.id!r}: 'children' must be a list")
        children = [_node(k, source, parent.id, seen) for k in kids]
        themes.append(Theme(parent.id, parent.label, parent.description, parent.examples, None,
                            tuple(c.id for c in children)))
        themes.extend(children)
    return themes


def _node(node: Any, source: str, parent: str | None, seen: set[str]) -> Theme:
    if not isinstance(node, Mapping):
        raise ConfigError(f"{source}: each theme must be a mapping with id, label, description; got {node!r:.80}")
    tid = node.get("id")
    where = f"{source}: theme {tid!r}"
    if not isinstance(tid, str) or not _ID.match(tid):
        raise ConfigError(f"{where}: 'id' must be lowercase words joined by '_', "
                          "a child written 'parent.cause' (e.g. 'delivery.late')")
    if parent is None and "." in tid:
        raise ConfigError(f"{where}: a top-level id has no dot; list it under the children of {parent_of(tid)!r}")
    if parent is not None and parent_of(tid) != parent:
        raise ConfigError(f"{where}: a child of {parent!r} must have an id starting with '{parent}.'")
    if parent is not None and node.get("children"):
        raise ConfigError(f"{where}: taxonomies have two levels; a cause cannot have children")
    if tid in seen:
        raise ConfigError(f"{where}: the id is used twice")
    seen.add(tid)
    extra = set(node) - _NODE_KEYS
    if extra:
        raise ConfigError(f"{where}: unknown keys {sorted(extra)}; allowed: {', '.join(sorted(_NODE_KEYS))}")
    for key in ("label", "description"):
        if key not in node:
            raise ConfigError(f"{where}: '{key}' is missing")
        if not isinstance(node[key], str) or not node[key].strip():
            raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    examples = node.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
        raise ConfigError(f"{where}: 'examples' must be a list of non-empty phrases")
    return Theme(tid, node["label"].strip(), node["description"].strip(), tuple(e.strip() for e in examples),
                 parent)


# -- overlap check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    """Two causes under different themes that read as one concept.

    ``similarity`` is the cosine of their centroids; ``a_siblings`` / ``b_siblings`` the highest
    cosine of each to a cause of its own theme (the pair is reported when it beats both).
    """

    a: str
    b: str
    similarity: float
    a_siblings: float
    b_siblings: float

    def __str__(self) -> str:
        return (f"{self.a} ~ {self.b}: {self.similarity:.3f} (closest own sibling: {self.a} {self.a_siblings:.3f}, "
                f"{self.b} {self.b_siblings:.3f})")


def theme_centroids(tax: Taxonomy, encode: Callable[[list[str]], Any]) -> dict[str, Any]:
    """Per theme, the normalised mean of its ``"label: description"`` and example vectors.

    ``encode(texts)`` returns one L2-normalised vector per text (e.g. the shared encoder's, with
    the directions the zero-shot themes project out removed), in one call.
    """
    import numpy as np

    texts, owner = [], []
    for t in tax:
        for text in (t.text, *t.examples):
            texts.append(text)
            owner.append(t.id)
    vectors = np.asarray(encode(texts), dtype=np.float64)
    out = {}
    for t in tax:
        v = vectors[[i for i, o in enumerate(owner) if o == t.id]].mean(0)
        out[t.id] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def overlaps(tax: Taxonomy, encode: Callable[[list[str]], Any], margin: float = 0.0,
             centroids: Mapping[str, Any] | None = None) -> list[Overlap]:
    """Causes of different themes closer to each other than each is to its own theme's other causes.

    A cause's description and examples are summarised by :func:`theme_centroids`; a pair (a, b)
    under different parents overlaps when cos(a, b) exceeds, by more than ``margin``, both a's
    highest cosine to its siblings and b's to theirs: a sentence about one would as readily be
    scored as the other, so one concept is counted twice (a cause with no sibling compares with
    its parent instead). Sorted by how far the pair beats its siblings, worst first.
    """
    import numpy as np

    vec = dict(centroids) if centroids is not None else theme_centroids(tax, encode)
    leaves = [t for t in tax if t.parent]

    def own(t: Theme) -> float:
        sibs = [s for s in tax[t.parent].children if s != t.id]
        return max((float(vec[t.id] @ vec[s]) for s in sibs), default=float(vec[t.id] @ vec[t.parent]))

    best_own = {t.id: own(t) for t in leaves}
    found = []
    for i, a in enumerate(leaves):
        for b in leaves[i + 1:]:
            if a.parent == b.parent:
                continue
            sim = float(np.dot(vec[a.id], vec[b.id]))
            if sim > best_own[a.id] + margin and sim > best_own[b.id] + margin:
                found.append(Overlap(a.id, b.id, round(sim, 4), round(best_own[a.id], 4), round(best_own[b.id], 4)))
    return sorted(found, key=lambda o: -(o.similarity - max(o.a_siblings, o.b_siblings)))


def nearest_outside(tax: Taxonomy, centroids: Mapping[str, Any], theme_id: str,
                    k: int = 3) -> Sequence[tuple[str, float]]:
    """The ``k`` causes of other themes closest to ``theme_id`` (for explaining an overlap)."""
    t = tax[theme_id]
    sims = [(o.id, float(centroids[t.id] @ centroids[o.id])) for o in tax
            if o.parent and o.parent != t.parent and o.id != t.id]
    return sorted(sims, key=lambda x: -x[1])[:k]
