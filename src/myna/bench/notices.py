"""`myna bench notices`: a segment notice to a whole population, then inbox first pages.

Measures, in process (the service layer, no HTTP):

1. how long a segment notice to every adult takes to become visible — one row written
   and committed, whatever the population (docs/notices.md);
2. the inbox first page (``notices.inbox``, page 1) for random residents, back to back,
   with ``segments`` segment notices live: p50 and p99.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from rich.console import Console

from myna import notices, registry, runtime
from myna.bench.harness import LoadStats, Result
from myna.bench.login import BENCH_SECRETS
from myna.bootstrap import build_container
from myna.platform.db import unit_of_work
from myna.platform.logging import configure_logging
from myna.platform.settings import Settings

SEED = 1
SENDER = "muni-131016"


def _settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        environment="production",
        data_dir=data_dir,
        database_url=database_url,
        secret_key=BENCH_SECRETS["MYNA_SECRET_KEY"],
        card_secret=BENCH_SECRETS["MYNA_CARD_SECRET"],
        ca_secret=BENCH_SECRETS["MYNA_CA_SECRET"],
    )


def _content(title: str) -> notices.NoticeCreate:
    return notices.NoticeCreate(
        title=title, body="ベンチマーク用のお知らせです。", category=notices.Category.PROCEDURE
    )


def run(
    *,
    residents: int,
    duration: float,
    segments: int,
    database_url: str,
    reuse: bool,
    console: Console,
) -> Result:
    """Seed (unless reused), send the segment notice, then time inbox first pages."""
    configure_logging(json=False, level="WARNING")
    with tempfile.TemporaryDirectory(prefix="myna-bench-notices-") as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.db"
        container = build_container(_settings(Path(tmp), url))
        runtime.prepare_database(container)
        with unit_of_work(container.session_factory) as session:
            existing = registry.count_residents(session=session)
        if not (reuse and existing >= residents):
            console.print(f"Seeding {residents:,} residents…")
            with unit_of_work(container.session_factory) as session:
                registry.seed_population(session=session, residents=residents, seed=SEED)
        with unit_of_work(container.session_factory) as session:
            population = registry.count_residents(session=session)
            for n in range(segments - 1):
                notices.send_notice(
                    session=session,
                    sender=SENDER,
                    audience=notices.ToSegment(notices.Segment.from_dict({"age_from": 20 + n})),
                    content=_content(f"条件付きのお知らせ {n}"),
                )
        with unit_of_work(container.session_factory) as session:
            rows_before = notices.count_notices(session=session)
        started = time.perf_counter()
        with unit_of_work(container.session_factory) as session:
            everyone = notices.ToSegment(notices.Segment.from_dict({"age_from": 18}))
            sent = notices.send_notice(
                session=session,
                sender=SENDER,
                audience=everyone,
                content=_content("18歳以上の全員へのお知らせ"),
            )
        visible_ms = (time.perf_counter() - started) * 1000
        with unit_of_work(container.session_factory) as session:
            rows_added = notices.count_notices(session=session) - rows_before
        console.print(
            f"Segment notice {sent.id} visible after {visible_ms:.1f} ms "
            f"({rows_added} notice rows for {population:,} residents)"
        )
        stats = LoadStats()
        rng = random.Random(SEED)  # noqa: S311 - picks residents to read, no secret
        begin = time.perf_counter()
        while time.perf_counter() - begin < duration:
            resident_id = rng.randint(1, population)
            t0 = time.perf_counter()
            try:
                with unit_of_work(container.session_factory) as session:
                    notices.inbox(session=session, resident_id=resident_id)
            except registry.ResidentNotFoundError as exc:
                stats.failed(exc)
                continue
            stats.latencies.append(time.perf_counter() - t0)
            stats.done += 1
        stats.elapsed = time.perf_counter() - begin
        container.engine.dispose()
    result = Result(
        scenario="notices",
        rate_per_s=stats.rate,
        p50_ms=stats.percentile(50),
        p99_ms=stats.percentile(99),
        baseline_rate_per_s=0.0,
        ratio=0.0,
        details={
            "residents": population,
            "segment_notices_live": segments,
            "visible_after_ms": round(visible_ms, 2),
            "notice_rows_added": rows_added,
            "inbox_errors": stats.errors,
            "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        },
    )
    console.print(
        f"Inbox first page: {stats.rate:.0f}/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms over {stats.done} reads"
    )
    return result
