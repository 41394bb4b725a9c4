"""The ``adsent`` command. Subcommands are registered by their own packages.

Each package declares its commands under the ``adsent.commands`` entry-point group in
``pyproject.toml``; a Typer app becomes a group (``adsent broker up``) and a function becomes a
command (``adsent demo``). Command modules import heavy libraries (torch, Faust) inside the
command bodies so that ``adsent --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
from importlib.metadata import EntryPoint, entry_points

import typer

from schemas.cli_support import settings_of
from schemas.logs import configure_logging

ENTRY_POINT_GROUP = "adsent.commands"


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="adsent",
        help="Attribute-level sentiment for advertisements, streamed over Kafka.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def root(ctx: typer.Context, verbose: bool = typer.Option(
            False, "--verbose", "-v", help="Log everything at DEBUG, third-party libraries included.")) -> None:
        """Settings come from ADSENT_* environment variables (see `adsent settings`)."""
        if ctx.resilient_parsing:
            return
        settings = settings_of(ctx)
        configure_logging(settings.log_level, verbose)

    @app.command("settings")
    def show_settings(
        ctx: typer.Context,
        markdown: bool = typer.Option(False, "--markdown", help="Print the defaults as the README's Markdown table."),
    ) -> None:
        """Print every setting with its environment variable, value and meaning."""
        settings = settings_of(ctx)
        if markdown:
            typer.echo(settings_table())
            return
        for name, field in type(settings).model_fields.items():
            value = getattr(settings, name)
            typer.echo(f"ADSENT_{name.upper()}={_show(value)}\n    {field.description}")

    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        target = _load(entry)
        if target is None:
            continue
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=entry.name)
        else:
            app.command(entry.name)(target)
    return app


def settings_table() -> str:
    """The settings reference as a Markdown table of variables, defaults and meanings."""
    from schemas.settings import Settings

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = f"`{_show(default)}`" if _show(default) else "(unset)"
        rows.append(f"| `ADSENT_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)


def _load(entry: EntryPoint) -> object | None:
    """Load one command; a command whose own module is not installed is skipped with a warning."""
    module = entry.value.split(":")[0]
    try:
        return entry.load()
    except ModuleNotFoundError as exc:
        if not exc.name or not (module == exc.name or module.startswith(exc.name + ".")):
            raise  # the command exists but one of its imports is missing: a real error
        logging.getLogger(__name__).warning("command %r is registered but %s is not installed", entry.name, module)
        return None


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return json.dumps([str(v) for v in value])  # pydantic-settings reads lists as JSON
    return str(value)


def main() -> None:
    build_app()()
