"""You said, we did, for the service: reads the store and calls the aggregate layer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..storage import Store


def you_said_we_did(store: Store, since: datetime | None = None, until: datetime | None = None,
                    period: str = "week", timezone: str = "UTC") -> list[dict[str, Any]]:
    """Per period and theme: resolved cases, grouped actions with counts, hours to resolve."""
    # imported here: the aggregate layer loads pandas (a third of a second), which the weekly job's
    # triage (open and escalate cases) does not need
    from ..aggregate.outcomes import resolved_frame
    from ..aggregate.outcomes import you_said_we_did as _figures

    return _figures(resolved_frame(store, since, until), period, timezone)
