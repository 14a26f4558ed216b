"""The ``triage`` command line: the root app, its sub-apps, and what every command shares."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

app = typer.Typer(
    help="crisis-triage: route messages that need a person to a person, first.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
spool_app = typer.Typer(
    help="The local spool of cases the database could not take.", no_args_is_help=True
)
queue_app = typer.Typer(help="The counselors' review queue.", no_args_is_help=True)
users_app = typer.Typer(help="Keys for platforms, counselors and leads.", no_args_is_help=True)
db_app = typer.Typer(help="The case database's schema (migrations).", no_args_is_help=True)
app.add_typer(queue_app, name="queue")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(spool_app, name="spool")
app.add_typer(db_app, name="db")
console = Console()
err = Console(stderr=True, style="red")


def fail(message: str) -> NoReturn:
    """Print the error in red and exit 1."""
    err.print(f"error: {message}")
    raise typer.Exit(1)


def progress_bar(title: str) -> tuple[Progress, Any]:
    """A rich progress bar and the function that moves it: ``update(step, total)``."""
    progress = Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task(title, total=None)

    def update(step: int, total: int) -> None:
        progress.update(task, completed=step, total=total)

    return progress, update


def data_root(data_dir: Path | None) -> Path | None:
    """The local corpora: the option, else ``TRIAGE_DATA_DIR``."""
    from training.data import data_dir as resolve

    return resolve(data_dir)


def main() -> None:
    """Entry point with plain logging."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
