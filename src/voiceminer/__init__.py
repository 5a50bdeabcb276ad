"""VoiceMiner: mine unsolicited customer comments for what customers feel, what goes wrong
and why, and what they need - offline.

Library entry points: :func:`voiceminer.jobs.ingest`, :func:`voiceminer.jobs.mine`,
:func:`voiceminer.jobs.build_report`; types in :mod:`voiceminer.types`.
"""

__version__ = "0.1.0"
