"""Migrations: one head, and the models and the migrated schema agree (no drift)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from myna.platform.db import Base, import_all_models
from myna.platform.migrate import alembic_config


def test_migrations_have_a_single_head(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    assert len(script.get_heads()) == 1


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    import_all_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_database_is_at_head(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert set(current) == set(script.get_heads())
