"""The ``triage`` command line: route, train, tune, evaluate, demo, serve, queue, audit, spool.

The root app lives in ``app``; importing this package registers every command on it.
"""

from __future__ import annotations

from triage.cli import operations, routing, training
from triage.cli.app import app, main
from triage.cli.training import ensure_demo_models

__all__ = ["app", "ensure_demo_models", "main", "operations", "routing", "training"]
