"""How analysis runs: the pipeline key a run works under, and the engines that spread the work.

- :mod:`.keys`: the pipeline key from a fingerprint of what it derives from, without loading a model
  when the same inputs were built before (a rerun with nothing pending stays cheap).
- :mod:`.dask_engine`: the analysis partitioned into claimable work units over a Dask cluster.
"""

from .keys import pipeline_fingerprint

__all__ = ["pipeline_fingerprint"]
