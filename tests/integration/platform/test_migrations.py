"""Migrations: one head, and the models and the migrated schema agree (no drift)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Engine

from myna.network import transparency as tlog
from myna.network.transparency.domain import Frontier, LogEntry, NewEntry, Outcome
from myna.network.transparency.models import LogEntryRow, LogNode, LogState
from myna.network.transparency.repository import entry_row
from myna.platform.db import (
    Base,
    import_all_models,
    make_engine,
    make_session_factory,
    unit_of_work,
)
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


def test_live_sessions_survive_the_move_to_one_session_table(tmp_path: Path) -> None:
    """0020 carries residents' and staff's sessions over, and its downgrade back."""
    config = alembic_config(f"sqlite:///{tmp_path / 'sessions.db'}")
    command.upgrade(config, "0017_partner_auth_time")
    engine = make_engine(f"sqlite:///{tmp_path / 'sessions.db'}")
    at = "2026-12-03 09:00:00.000000"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO portal_sessions (token_digest, csrf_token, resident_id, "
                "certificate_serial, created_at, last_seen_at, authenticated_at) VALUES "
                "('r1', 'c1', 7, '42', :at, :at, :at), ('r0', 'c0', NULL, NULL, :at, :at, NULL)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO office_sessions (token_digest, csrf_token, staff_id, mfa_passed, "
                "created_at, last_seen_at) VALUES ('s0', 'd0', NULL, 0, :at, :at), "
                "('s1', 'd1', 3, 0, :at, :at), ('s2', 'd2', 3, 1, :at, :at)"
            ),
            {"at": at},
        )
    command.upgrade(config, "0020_sessions")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT token_digest, kind, csrf_token, subject_id, awaiting_second_factor, "
                "certificate_serial FROM browser_sessions ORDER BY token_digest"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("r0", "resident", "c0", None, 0, None),
        ("r1", "resident", "c1", 7, 0, "42"),
        ("s0", "staff", "d0", None, 0, None),
        ("s1", "staff", "d1", 3, 1, None),
        ("s2", "staff", "d2", 3, 0, None),
    ]
    command.downgrade(config, "0017_partner_auth_time")
    with engine.connect() as conn:
        portal = conn.execute(
            text("SELECT token_digest, resident_id FROM portal_sessions ORDER BY token_digest")
        ).all()
        staff = conn.execute(
            text("SELECT token_digest, staff_id, mfa_passed FROM office_sessions ORDER BY 1")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in portal] == [("r0", None), ("r1", 7)]
    assert [tuple(row) for row in staff] == [("s0", None, 0), ("s1", 3, 0), ("s2", 3, 1)]


def test_pending_card_logins_survive_the_staff_card_migration(tmp_path: Path) -> None:
    """0032 makes existing challenges residents'; going down drops only staff ones."""
    url = f"sqlite:///{tmp_path / 'challenges.db'}"
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0032_office_staff_cards")
    assert isinstance(before.down_revision, str)
    command.upgrade(config, before.down_revision)
    engine = make_engine(url)
    at = "2026-12-04 09:00:00.000000"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO login_challenges (id, nonce, origin, session_digest, status, "
                "created_at, expires_at) VALUES ('c1', 'n', 'http://o', 'd', 'pending', :at, :at)"
            ),
            {"at": at},
        )
    command.upgrade(config, "0032_office_staff_cards")
    with engine.begin() as conn:
        audience = conn.execute(text("SELECT audience FROM login_challenges")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO login_challenges (id, nonce, origin, session_digest, audience, "
                "status, created_at, expires_at) VALUES "
                "('c2', 'n', 'http://o', 'd', 'staff', 'pending', :at, :at)"
            ),
            {"at": at},
        )
    assert audience == "resident"
    command.downgrade(config, before.down_revision)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT id FROM login_challenges")).scalars().all()
    engine.dispose()
    assert left == ["c1"]


def test_an_exchange_log_with_entries_moves_to_group_commit(tmp_path: Path) -> None:
    """0042 keeps every entry's leaf; the log then takes pending appends and verifies."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0038_certificates")
    engine = make_engine(url)
    frontier = Frontier()
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    entries, nodes = [], []
    for index in range(6):
        entry = LogEntry(
            index=index,
            time=at + timedelta(minutes=index),
            requester="portal",
            provider="mhlw",
            procedure="self-info",
            item="health.insurance",
            subject=str(1000 + index % 2),
            outcome=Outcome.SUCCESS,
        )
        digest = entry.leaf_hash()
        entries.append(entry_row(entry, digest))
        nodes += [
            {"level": lv, "node_index": i, "hash": h} for (lv, i), h in frontier.append(digest)
        ]
    with engine.begin() as conn:
        conn.execute(insert(LogEntryRow.__table__), entries)  # type: ignore[arg-type]
        conn.execute(insert(LogNode.__table__), nodes)  # type: ignore[arg-type]
        conn.execute(
            update(LogState.__table__).values(tree_size=6, frontier=frontier.to_bytes())  # type: ignore[arg-type]
        )
    command.upgrade(config, "head")
    signer = tlog.LogSigner.generate()
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        before = [tlog.get_entry(session=session, index=i) for i in range(6)]
        tlog.append(
            session=session,
            entries=[
                NewEntry(
                    requester="portal",
                    provider="nta",
                    procedure="self-info",
                    item="tax.income",
                    subject="1000",
                    outcome=Outcome.SUCCESS,
                )
            ],
        )
    with unit_of_work(factory) as session:
        head = tlog.publish_tree_head(session=session, signer=signer)
        report = tlog.verify_log(session=session, public_key=signer.public_jwk)
        keys = session.execute(
            select(LogEntryRow.id, LogEntryRow.leaf_index).order_by(LogEntryRow.id)
        ).all()
        history = tlog.entries_for_subject(session=session, subject="1000")
        grown = tlog.consistency_proof(session=session, first=6, second=7)
    engine.dispose()
    assert [e.leaf_hash() for e in before] == [row["leaf_hash"] for row in entries]
    assert [tuple(key) for key in keys] == [(i + 1, i) for i in range(7)]
    assert head.tree_size == 7
    # The tree of the six old leaves is a prefix of the new one (RFC 9162 §2.1.4.2).
    tlog.verify_consistency(
        first=6, second=7, first_root=frontier.root(), second_root=head.root_hash, path=grown.path
    )
    assert report.ok, [str(p) for p in report.problems]
    assert [e.index for e in history.items] == [6, 4, 2, 0]
