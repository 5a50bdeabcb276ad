"""One exception hierarchy. Every message says what went wrong, where, and what to do.

Each error class carries the CLI exit code that scripts can rely on
(documented in the README):

=====  ==========================================================
code   meaning
=====  ==========================================================
0      success
1      unexpected internal error (a bug: please report it)
2      bad command line (unknown option, missing argument)
3      input problem (file missing, unreadable, unknown preset, bad mapping)
4      configuration problem (bad TOML, bad setting value)
5      store problem (database unreachable, migration failed)
6      ``--strict`` was given and some rows were rejected
7      a required optional dependency is missing
=====  ==========================================================
"""

from __future__ import annotations


class VoiceMinerError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InputError(VoiceMinerError):
    """An input file or folder cannot be read as comments."""

    exit_code = 3

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = ", ".join(
            part for part in (
                f"file {path}" if path else "",
                f"line {line}" if line is not None else "",
                f"field {field!r}" if field else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path, self.line, self.field = path, line, field


class ConfigError(VoiceMinerError):
    """A setting is missing, malformed or contradictory."""

    exit_code = 4


class StoreError(VoiceMinerError):
    """The database cannot be reached, migrated or written."""

    exit_code = 5


class StrictModeError(VoiceMinerError):
    """Raised by ``--strict`` runs when rows were rejected."""

    exit_code = 6


class MissingDependencyError(VoiceMinerError):
    """An optional dependency is not installed; the message names the extra."""

    exit_code = 7

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"the optional dependency {module!r} is not installed; "
            f"install it with: pip install 'voiceminer[{extra}]'"
        )


class PipelineError(VoiceMinerError):
    """A pipeline is mis-assembled (unknown stage, unmet requirement)."""

    exit_code = 4


class TriageError(VoiceMinerError):
    """A triage request that cannot be done as asked (bad value, unknown user or case).

    The service answers it with a 4xx status (``status``) and the message as its reason.
    """

    exit_code = 3
    status = 400


class NotFoundError(TriageError):
    """The user, team, case or comment named does not exist."""

    status = 404


class PermissionDenied(TriageError):
    """The user's role does not allow this."""

    status = 403


class ConflictError(TriageError):
    """Someone else changed the case since it was read; ``current`` holds its state now."""

    status = 409

    def __init__(self, message: str, current: object = None) -> None:
        super().__init__(message)
        self.current = current
