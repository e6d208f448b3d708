"""`qa-pipeline users add|list`: the people who sign in to the workspace."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from qa_pipeline.cli._options import DEFAULT_STORE_TEXT, JsonOption, StoreOption

users_app = typer.Typer(help="Workspace users and their roles.", no_args_is_help=True)


@users_app.command()
def add(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option(help="admin, supervisor, controller or agent.")],
    team: Annotated[
        list[str] | None, typer.Option(help="A team a supervisor supervises (repeatable).")
    ] = None,
    agent: Annotated[str | None, typer.Option(help="An agent's name as the manifest spells it.")] = None,
    blind: Annotated[bool, typer.Option(help="A controller scores without seeing the AI's answers.")] = True,
    language: Annotated[str, typer.Option(help="en or ru.")] = "en",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin instead of a prompt.")
    ] = False,
    store: StoreOption = DEFAULT_STORE_TEXT,
) -> None:
    """Add a user, or change one (a new password is asked for either way)."""
    from qa_pipeline.store.database import Store
    from qa_pipeline.team.accounts import add_user, make_user

    user = make_user(name, role, teams=team, agent=agent, blind=blind, language=language)  # type: ignore[arg-type]
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    add_user(Store(store), user, password)
    typer.echo(f"{user.name}: {user.role}" + (f" of {', '.join(user.teams)}" if user.teams else ""))


@users_app.command()
def remove(
    name: Annotated[str, typer.Argument(help="Sign-in name.")], store: StoreOption = DEFAULT_STORE_TEXT
) -> None:
    """Remove a user: their sessions end at once; what they reviewed, disputed or wrote stays."""
    from qa_pipeline.store.database import Store
    from qa_pipeline.team.accounts import remove_user

    remove_user(Store(store), name)
    typer.echo(f"{name} removed")


@users_app.command(name="list")
def list_users(store: StoreOption = DEFAULT_STORE_TEXT, as_json: JsonOption = False) -> None:
    """Every user with role, teams and agent name (never a password)."""
    from qa_pipeline.store.database import Store

    users = Store(store).users()
    if as_json:
        typer.echo(json.dumps([u.model_dump() for u in users], indent=2, ensure_ascii=False))
        return
    for user in users:
        extra = ", ".join(user.teams) if user.teams else (user.agent or "")
        typer.echo(f"{user.name}\t{user.role}\t{extra}")
