"""The sentence-vector cache in the store, keyed by encoder key and text hash.

>>> from voiceminer.storage import Store
>>> import numpy as np
>>> cache = VectorCache(Store.open("sqlite://"), "enc@1")
>>> cache.put({"h1": np.ones(3, dtype=np.float32)})
>>> cache.get(["h1", "h2"])["h1"].tolist()
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import sqlalchemy as sa

from . import schema as t
from .store import Store, _chunks, insert_ignore


class VectorCache:
    """get/put float32 vectors for one encoder; writes are idempotent."""

    def __init__(self, store: Store, encoder_key: str) -> None:
        self.store, self.encoder_key = store, encoder_key

    def get(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self.store.engine.connect() as conn:
            for chunk in _chunks(sorted(set(hashes)), 500):
                query = sa.select(t.encodings.c.text_hash, t.encodings.c.vector).where(
                    t.encodings.c.encoder == self.encoder_key, t.encodings.c.text_hash.in_(chunk))
                for h, blob in conn.execute(query):
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Store vectors; rows that another worker wrote first are left as they are."""
        if not vectors:
            return
        rows = [{"encoder": self.encoder_key, "text_hash": h, "vector": np.asarray(v, np.float32).tobytes()}
                for h, v in sorted(vectors.items())]
        with self.store.engine.begin() as conn:
            conn.execute(insert_ignore(conn, t.encodings), rows)

    def count(self) -> int:
        query = sa.select(sa.func.count()).select_from(t.encodings).where(t.encodings.c.encoder == self.encoder_key)
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
