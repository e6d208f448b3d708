"""`qa-pipeline serve`: the QA team's workspace in a browser, over the same store as every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import DEFAULT_STORE_TEXT, ChecklistOption, StoreOption
from qa_pipeline.resources import default_checklists


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 keeps it on this machine.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    secure_cookies: Annotated[
        bool, typer.Option(help="Cookies over HTTPS only: set it when a TLS proxy stands in front.")
    ] = False,
) -> None:
    """Serve review queues, agents' scorecards and disputes. Add users first: qa-pipeline users add."""
    import uvicorn

    from qa_pipeline.server import ServerSettings, create_app, secret_key

    folder = Path(store).parent if "://" not in store else Path("qa-work")
    settings = ServerSettings(
        store=store,
        checklists=checklist or [default_checklists()],
        secret_key=secret_key(folder),
        secure_cookies=secure_cookies,
    )
    app = create_app(settings)
    if not app.state.workspace.store.users():
        typer.secho("No users yet: add one with qa-pipeline users add NAME --role admin", err=True)
    typer.echo(f"Workspace on http://{host}:{port}/ (store {store})")
    uvicorn.run(app, host=host, port=port, log_level="warning")
