"""Run the HTTP service on a real loopback port for a test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from local_services import free_port, wait_for

from review_queue.accounts import add_principal
from triage import Triage
from triage.service import create_app


@dataclass
class Running:
    """A served app and the keys made for it."""

    url: str
    triage: Triage
    keys: dict[str, str]


@contextmanager
def serve(triage: Triage) -> Iterator[Running]:
    """Serve ``triage`` with uvicorn in a thread; keys for one principal of each role."""
    keys = {
        role: add_principal(triage.store, role, role) for role in ("platform", "counselor", "lead")
    }
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(triage), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=20, what="uvicorn to start")
    try:
        yield Running(f"http://127.0.0.1:{port}", triage, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
