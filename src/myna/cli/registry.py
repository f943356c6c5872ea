"""`myna registry ...` commands and `myna seed`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from myna.cli.common import exit_on_error, migrated_container, migrated_session

app = typer.Typer(no_args_is_help=True, help="The resident registry (住民基本台帳).")
municipalities_app = typer.Typer(no_args_is_help=True, help="Municipalities (市区町村).")
app.add_typer(municipalities_app, name="municipalities")

console = Console()
errors = Console(stderr=True)


@municipalities_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="総務省 list as CSV")],
) -> None:
    """Load a 全国地方公共団体コード list (UTF-8 or Shift_JIS CSV); all rows or none."""
    from myna.registry.service import load_municipality_file  # noqa: PLC0415

    with exit_on_error(errors), migrated_session() as session:
        result = load_municipality_file(session=session, data=file.read_bytes())
    console.print(f"municipalities: {result.inserted} added, {result.updated} updated")


@municipalities_app.command("list")
def list_(
    prefecture: Annotated[str | None, typer.Option(help="2-digit prefecture code")] = None,
) -> None:
    """List the registered municipalities."""
    from myna.reference import list_municipalities  # noqa: PLC0415

    with migrated_session() as session:
        for m in list_municipalities(session=session, prefecture_code=prefecture):
            console.print(f"{m.code}  {m.full_name}  {m.prefecture_name_kana} {m.name_kana}")


@app.command("personas")
def personas() -> None:
    """Register the demo personas if missing and list them (no MyNumbers shown)."""
    from myna.registry.personas import ensure_personas  # noqa: PLC0415

    with migrated_session() as session:
        for key, resident in ensure_personas(session=session).items():
            console.print(f"{key:8} #{resident.id}  {resident.full_name}  {resident.full_address}")


def seed(
    residents: Annotated[int, typer.Option("--residents", "-n", min=1, help="how many")] = 1000,
    seed_value: Annotated[int, typer.Option("--seed", "-s", help="same seed, same people")] = 0,
) -> None:
    """Add a deterministic synthetic population (census age pyramid and household mix)."""
    from myna.runtime import seed_residents  # noqa: PLC0415

    started = time.perf_counter()
    summary = seed_residents(migrated_container(), console, residents=residents, seed=seed_value)
    # Wall time including migrations check and the final commit, as a user sees it.
    seconds = time.perf_counter() - started
    console.print(
        f"seeded {summary.residents:,} residents in {summary.households:,} households "
        f"across {summary.municipalities} municipalities in {seconds:.1f} s "
        f"({summary.residents / seconds:,.0f} residents/s)"
    )
