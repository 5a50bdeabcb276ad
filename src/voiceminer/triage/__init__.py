"""Triage: accounts, cases opened from flagged complaints, their workflow to a closed loop,
triagers' corrections as labels, comment search and "you said, we did".

Library functions over the store, called by the CLI, the web service and the weekly job.
"""

from .cases import (
           CLOSED,
           OPEN,
           STATUSES,
           Case,
           CaseFilter,
           case_for_comment,
           count_cases,
           escalate_overdue,
           get_case,
           history,
           list_cases,
           open_cases,
)
from .detail import case_detail
from .labels import correct, export_labels, list_labels
from .outcomes import you_said_we_did
from .search import search_comments
from .users import (
           ROLES,
           Team,
           User,
           add_team,
           add_user,
           authenticate,
           create_token,
           get_team,
           get_user,
           list_teams,
           list_users,
           set_password,
           update_user,
           user_for_token,
)
from .workflow import update_case

__all__ = ["CLOSED", "OPEN", "ROLES", "STATUSES", "Case", "CaseFilter", "Team", "User", "add_team", "add_user",
           "authenticate", "case_detail", "case_for_comment", "correct", "count_cases", "create_token",
           "escalate_overdue", "export_labels", "get_case", "get_team", "get_user", "history", "list_cases",
           "list_labels", "list_teams", "list_users", "open_cases", "search_comments", "set_password",
           "update_case", "update_user", "user_for_token", "you_said_we_did"]
