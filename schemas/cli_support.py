"""Small helpers every package's CLI commands share (no heavy imports here)."""

from __future__ import annotations

from typing import NoReturn

import typer
from pydantic import ValidationError

from schemas.settings import Settings, load_settings


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root command loaded from the environment (loads them once if absent)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        try:
            root.obj = load_settings()
        except ValidationError as exc:
            fail(f"invalid ADSENT_* settings:\n{exc}", code=2)
    return root.obj


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error to stderr and exit with ``code`` (no traceback for users)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)




