"""Presets: known export layouts (app stores, review sites, help desks, surveys).

A preset lists header aliases per field (compared with
:func:`~voiceminer.collectors.base.header_key`, so case, spaces, underscores
and punctuation do not matter), a default channel and a rating range. Each is
registered in ``voiceminer.registry.presets`` under its name; plugins can add
more :class:`Preset` objects the same way.

>>> BUILTIN_PRESETS["nps_survey"].rating_scale
10.0
>>> PRESET_NAMES
('app_store', 'review_site', 'helpdesk', 'nps_survey', 'csat_survey')
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import presets as preset_registry

__all__ = ["Preset", "PRESET_NAMES", "BUILTIN_PRESETS", "GENERIC_HEADER_KEYS"]

# Header words too common to identify a preset on their own (compared as header keys).
GENERIC_HEADER_KEYS = frozenset({
    "id", "text", "body", "content", "comment", "comments", "review", "message", "description",
    "feedback", "date", "created", "createdat", "timestamp", "rating", "score", "stars",
    "title", "subject", "channel",
})

SURVEY_METADATA = ("plan", "region", "segment", "product", "country", "language", "tier")


@dataclass(frozen=True)
class Preset:
    """Aliases per Comment field plus defaults for one export layout."""

    name: str
    text: tuple[str, ...]
    id: tuple[str, ...] = ()
    created_at: tuple[str, ...] = ()
    rating: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    default_channel: str | None = None
    rating_min: float | None = None
    rating_scale: float | None = None

    def register(self) -> "Preset":
        """Register this preset in ``registry.presets`` under its name."""
        return preset_registry.register(self.name)(self)


BUILTIN_PRESETS: dict[str, Preset] = {p.name: p.register() for p in (
    Preset(
        name="app_store", default_channel="app_review", rating_min=1.0, rating_scale=5.0,
        id=("Review ID", "reviewId", "id"),
        text=("Review", "Review Text", "content", "body"),
        title=("Title",),
        created_at=("Date", "Review Date", "at", "Review Last Update Date and Time",
                    "Review Submit Date and Time"),
        rating=("Star Rating", "Rating", "score", "stars"),
        language=("Reviewer Language",),
        metadata=("App Version", "appVersion", "App Version Name", "App Version Code",
                  "reviewCreatedVersion", "Device", "Country", "Territory", "Language",
                  "Storefront", "Platform"),
    ),
    Preset(
        name="review_site", default_channel="review", rating_min=1.0, rating_scale=5.0,
        id=("review_id",), text=("review_text", "review", "text", "body"), title=("title",),
        created_at=("date", "review_date", "published"), rating=("rating", "stars"),
        metadata=("product", "region", "plan", "store", "location"),
    ),
    Preset(
        name="helpdesk", default_channel="support_ticket",
        id=("ticket_id", "ticket id", "id"), text=("description", "body", "message"),
        title=("subject",), created_at=("created_at", "created", "date_opened"),
        channel=("channel", "via.channel", "via", "source_channel"),
        metadata=("priority", "customer_id", "region", "status", "requester", "requester_id", "product",
                  "tags", "type", "group", "assignee", "group_id", "assignee_id", "organization_id"),
    ),
    Preset(
        name="nps_survey", default_channel="survey", rating_min=0.0, rating_scale=10.0,
        id=("response_id", "respondent_id", "id"),
        text=("comment", "feedback", "reason", "verbatim", "why"),
        created_at=("submitted", "date", "response_date", "timestamp"),
        rating=("nps_score", "nps", "likelihood_to_recommend", "score"),
        metadata=SURVEY_METADATA,
    ),
    Preset(
        name="csat_survey", default_channel="survey", rating_min=1.0, rating_scale=5.0,
        id=("response_id", "id"), text=("comment", "feedback", "verbatim"),
        created_at=("submitted", "date"),
        rating=("csat", "satisfaction", "csat_score", "rating"),
        metadata=SURVEY_METADATA,
    ),
)}

PRESET_NAMES: tuple[str, ...] = tuple(BUILTIN_PRESETS)
