"""Pure functions over DataFrames built from stored tags: periods, trends, breakdowns."""

from .frames import comment_frame
from .periods import assign_period
from .summary import channel_breakdown, overall, period_sentiment

__all__ = ["assign_period", "channel_breakdown", "comment_frame", "overall", "period_sentiment"]
