"""The exception tree of `remediate`, and the exit code each one maps to.

Every error a user can cause or meet carries its exit code and a one-line message, so the CLI
prints one clear line and exits with the documented code (docs/contract.md) instead of a traceback::

    RemediateError                    exit 1  base: one clear line, no traceback
    ├── ConfigError                   exit 1  bad config file, unknown key, bad value
    ├── InputError                    exit 1  unknown/malformed ESM id, non-Kafka ESM
    ├── PlanFileError                 exit 1  malformed, truncated, tampered or future-schema plan file
    ├── AwsError                      exit 1  an AWS call failed after retries, or was denied
    │   └── CredentialsError          exit 1  no credentials or no region in the standard chain
    ├── JournalError                  exit 1  the state directory or a journal cannot be read or written
    ├── LockedError                   exit 1  another run holds the ESM's lock
    ├── VerificationError             exit 1  a change did not take effect
    ├── ApprovalRefused               exit 3  the plan was not approved; nothing was changed
    ├── Interrupted                   exit 3  SIGINT/SIGTERM: stopped at a safe point (the CLI exits
    │                                          130/143 instead when the run had changed something)
    └── StalePlanError                exit 4  a saved plan (or a resumed run) no longer matches AWS

A rollback that refused some of its undo steps exits EXIT_PARTIAL (5); it is an outcome, not an
exception: everything it could undo was undone and verified. An apply that made and verified its
changes while manual steps still block the mapping exits EXIT_PARTLY_FIXED (6), also an outcome.
"""

from __future__ import annotations

EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_REFUSED = 3
EXIT_STALE = 4
EXIT_PARTIAL = 5
EXIT_PARTLY_FIXED = 6  # issue 23: apply verified, manual steps remain


class RemediateError(Exception):
    """Base of every error `remediate` reports to a user as one line."""

    exit_code: int = EXIT_ERROR


class ConfigError(RemediateError):
    """The configuration (file, environment or flags) is invalid."""


class InputError(RemediateError):
    """What the user asked for cannot be acted on (unknown ESM, not a Kafka ESM, ...)."""


class PlanFileError(RemediateError):
    """A saved plan file cannot be trusted: unreadable, truncated, tampered with or of another schema."""


class AwsError(RemediateError):
    """An AWS call failed for good: retries did not clear it, or the caller is not allowed to make it."""

    def __init__(self, message: str, *, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation


class CredentialsError(AwsError):
    """The standard AWS chain yielded no credentials or no region."""


class JournalError(RemediateError):
    """The state directory or a run's journal cannot be used (unwritable, full, damaged, in use)."""


class LockedError(RemediateError):
    """Another run is applying changes to the same ESM."""


class VerificationError(RemediateError):
    """After apply, a change was read back and had not taken effect."""


class ApprovalRefused(RemediateError):
    """The plan was not approved (answer other than `yes`, or no terminal to ask on)."""

    exit_code = EXIT_REFUSED


class Interrupted(RemediateError):
    """SIGINT or SIGTERM asked the run to stop; it stopped at a safe point (between AWS calls).

    `signum` is the signal; the CLI exits 128 + signum when the run had changed something (the
    shell's convention for a process ended by a signal) and EXIT_REFUSED when nothing was changed.
    """

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum


class StalePlanError(RemediateError):
    """The state a saved plan was computed from has changed; applying it could do harm."""

    exit_code = EXIT_STALE
