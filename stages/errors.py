"""Exceptions raised by crisis-triage.

Everything derives from ``TriageError`` so callers can catch the family at once::

    TriageError
    ├── ConfigError                a settings, policy or model-directory file is invalid (at load)
    │   ├── PolicyError            the policy YAML does not validate (names the field and line)
    │   └── ModelDirError          a model directory is missing files or is inconsistent
    ├── StageError                 a stage could not score a batch (turned into fail-safe decisions)
    ├── DatabaseUnavailableError   the database refused a write (the batch is spooled instead)
    └── QueueError (ValueError)    a counselor action that cannot be done (not your case, ...)

Bad input to ``route()`` raises the built-in ``TypeError`` (not a ``str``) and ``ValueError``
(invalid arguments), as Python users expect; message *content* never raises.
"""

from __future__ import annotations


class TriageError(Exception):
    """Base class of every crisis-triage error."""


class ConfigError(TriageError):
    """A configuration file or setting is invalid."""


class PolicyError(ConfigError):
    """The policy file does not validate; the message names the field and line."""


class ModelDirError(ConfigError):
    """A model directory is missing or inconsistent."""


class StageError(TriageError):
    """A stage failed to score a batch."""


class DatabaseUnavailableError(TriageError):
    """The database refused or could not take a write; the batch goes to the spool."""


class QueueError(TriageError, ValueError):
    """A counselor action that cannot be done (not claimed by you, unknown case, ...)."""
