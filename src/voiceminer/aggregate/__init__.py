"""Pure functions over DataFrames built from stored tags: periods, trends, breakdowns."""

from .frames import comment_frame
from .periods import assign_period
from .summary import channel_breakdown, period_sentiment, overall

__all__ = ["comment_frame", "assign_period", "period_sentiment", "channel_breakdown", "overall"]
