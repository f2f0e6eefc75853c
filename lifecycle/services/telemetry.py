"""Telemetry storage: one signed delivery becomes daily usage rows, exactly once."""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.backends.postgresql import base as postgresql_backend
from django.db.backends.utils import CursorDebugWrapper
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import MicroApp
from lifecycle.models import TelemetryDelivery, UsageReport

# --- telemetry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict
    replayed: bool = False  # the answer stored for an earlier delivery of this webhook id
    text: str = ""  # ``body`` as the JSON already written to the database, when at hand


class DeliveryConflict(Exception):
    """The webhook id was used before for a different body."""


@dataclass(frozen=True)
class Credentials:
    """What verifying a delivery needs to know about its app, as read at ``loaded_at``.

    ``keys`` are the current secret and, if it was still valid when read, the previous
    one (empty strings left out)."""

    app_id: int
    slug: str
    state: str
    keys: tuple[str, ...]
    loaded_at: float


# Per-process cache of telemetry credentials, PostgreSQL only: slug → Credentials.
# An entry is only a guess at which secret signed a call. The one write statement
# (telemetry_store(verify=...)) re-checks in SQL that the app still has that slug, is not
# retired and still accepts that secret, and writes nothing otherwise; the view then drops
# the entry and answers from a fresh read, exactly as without the cache. So a rotation,
# retirement or lapse of the previous secret is seen by the next call, whatever the TTL;
# the TTL and the size bound only keep entries for apps that stopped calling from piling up.
CREDENTIALS_CACHE_SECONDS = 30.0
CREDENTIALS_CACHE_SIZE = 20_000
_credentials_cache: dict[str, Credentials] = {}


def telemetry_cached_credentials(slug: str) -> Credentials | None:
    """The cached credentials of ``slug`` if fresh; None on a miss and on SQLite."""
    entry = _credentials_cache.get(slug)
    if entry is None:
        return None
    if time.monotonic() - entry.loaded_at >= CREDENTIALS_CACHE_SECONDS:
        _credentials_cache.pop(slug, None)
        return None
    return entry


def telemetry_forget_credentials(slug: str) -> None:
    _credentials_cache.pop(slug, None)


def clear_credentials_cache() -> None:
    _credentials_cache.clear()


def _remember(credentials: Credentials) -> None:
    if connection.vendor != "postgresql":
        return  # only PostgreSQL's single write statement can re-check what was cached
    if len(_credentials_cache) >= CREDENTIALS_CACHE_SIZE:
        _credentials_cache.pop(next(iter(_credentials_cache)), None)  # the oldest entry
    _credentials_cache.pop(credentials.slug, None)  # re-insert at the end
    _credentials_cache[credentials.slug] = credentials


def _first_statement(run, *, retry: bool):
    """Run the request's first statement, which doubles as the connection's health check.

     ``CONN_HEALTH_CHECKS`` would send a ``SELECT 1`` first, one more round trip per call
    . Instead, when a reused connection turns out dead, it is closed and, with
     ``retry`` (a read), the statement runs once more on a fresh one — what the health check
     would have done; without it (a write) None is returned and the caller falls back."""
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: a lookup per attribute
    unchecked = (
        db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    if unchecked:
        db.health_check_done = True
    try:
        return run()
    except (OperationalError, InterfaceError):
        if not unchecked:
            raise
        db.close()
        return run() if retry else None


def _prepared_cursor(db):
    """A cursor whose statements PostgreSQL parses and plans once per connection.

    The cached-credentials write is one statement of three data-modifying CTEs; planning it
    took about two thirds of its server time (0.40 ms a call against 0.16 ms prepared,
    Django binds parameters client-side and never prepares (so that connection
    poolers work): this cursor binds server-side and prepares, through Django's own cursor
    wrapper (error translation, query logging). ``APPKEEPER_DB_PREPARED_STATEMENTS=false``
    turns it off behind a pooler that cannot keep prepared statements (PgBouncer in
    transaction mode before 1.21)."""
    if not settings.APPKEEPER_DB_PREPARED_STATEMENTS:
        return db.cursor()
    db.ensure_connection()
    if db.connection.cursor_factory not in _DJANGO_CURSORS:
        # Someone wrapped the connection's cursors (OpenTelemetry's psycopg tracing): the
        # write keeps its span and is not prepared.
        return db.cursor()
    db.validate_thread_sharing()
    raw = _PreparingCursor(db.connection)
    return _PreparedDebugCursor(raw, db) if db.queries_logged else db.make_cursor(raw)


_DJANGO_CURSORS = (postgresql_backend.Cursor, postgresql_backend.ServerBindingCursor)


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, and every statement prepared. Django opens connections with
    ``prepare_threshold=None`` (never prepare), under which psycopg ignores even an explicit
    ``prepare=True``: the threshold is lifted for this cursor's statements only."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        connection = self.connection
        threshold = connection.prepare_threshold
        connection.prepare_threshold = 0
        try:
            return super().execute(query, params, prepare=prepare is not False, binary=binary)
        finally:
            connection.prepare_threshold = threshold


class _PreparedDebugCursor(CursorDebugWrapper):
    """Django's query log asks the cursor which SQL it sent, which only a client-side
    binding cursor can say: log the statement with its parameters bound client-side, as
    Django does for server-side binding."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return super(CursorDebugWrapper, self).execute(sql, params)


def telemetry_credentials(slug: str, *, now) -> Credentials | None:
    """The credentials for verifying a delivery, or None for an unknown slug.

    One indexed query in plain SQL: the ORM's query building costs more than the query
    itself. On PostgreSQL the answer is cached (see ``_credentials_cache``)."""
    sql = (
        f"SELECT id, state, ingestion_secret, CASE WHEN previous_secret_valid_until > %s "
        f"THEN previous_ingestion_secret ELSE '' END FROM {MicroApp._meta.db_table} "
        "WHERE slug = %s"
    )
    params = [connection.ops.adapt_datetimefield_value(now), slug]
    row = _first_statement(lambda: _fetch_one(sql, params), retry=True)
    if row is None:
        _credentials_cache.pop(slug, None)
        return None
    app_id, state, current, previous = row
    credentials = Credentials(
        app_id, slug, state, tuple(s for s in (current, previous) if s), time.monotonic()
    )
    _remember(credentials)
    return credentials


def _fetch_one(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


UPSERT_BATCH = 100  # SQLite: rows per statement, 800 parameters, under every build's limit
_USAGE_SET = (
    " ON CONFLICT (app_id, date, region_id) DO UPDATE SET requests = excluded.requests, "
    "errors = excluded.errors, p95_ms = excluded.p95_ms, cost = excluded.cost, "
    "updated_at = excluded.updated_at"
)
_USAGE_COLUMNS = "(app_id, region_id, date, requests, errors, p95_ms, cost, updated_at)"


def telemetry_store(*, app_id: int, webhook_id: str, body_sha256: str, rows: list,
                    answer: dict, now=None,
                    verify: tuple[str, str] | None = None) -> StoredAnswer | None:  # fmt: skip
    """Store one verified, validated delivery exactly once.

    1. In one transaction: record the delivery (unique per app and webhook id), upsert the
       daily rollups (``INSERT ... ON CONFLICT (app, date, region) DO UPDATE``, which
       SQLite and PostgreSQL both speak), and set the app's ``last_seen_at``.
    2. If the delivery row already exists (a retry, or a concurrent twin that committed
       first), roll back and answer what was answered then — or raise DeliveryConflict if
       that id came with a different body.

    ``verify=(slug, secret)`` (PostgreSQL only) is for credentials taken from the cache:
    the statement then writes only if app ``app_id`` still has that slug, is not retired
    and accepts that secret (current, or previous within its validity) — checked under the
    app's row lock — and returns None, having written nothing, if not. It is also the
    request's first statement, the connection's health check: None too (after closing the
    connection) if a reused connection turns out dead. Either way the caller answers from
    a fresh read, as without the cache.

    ``rows`` are ``lifecycle.telemetry.CleanReport``. Plain SQL, like
    :func:`telemetry_credentials`, to keep the hot path to the statements themselves.
    """
    now = now or timezone.now()
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: a lookup per attribute
    ops = db.ops
    stamp = ops.adapt_datetimefield_value(now)
    apps = MicroApp._meta.db_table
    delivery = TelemetryDelivery._meta.db_table
    usage = UsageReport._meta.db_table
    delivery_sql = (
        f"INSERT INTO {delivery} (app_id, webhook_id, body_sha256, status_code, response, "
        "received_at) VALUES (%s, %s, %s, %s, {json}, %s)"
    )
    answer_json = json.dumps(answer)
    delivery_params = [app_id, webhook_id, body_sha256, 202, answer_json, stamp]
    seen_sql = f"UPDATE {apps} SET last_seen_at = %s WHERE id = "

    def value_params(batch: list) -> list:
        params: list = []
        for r in batch:
            params += [r.region_id, ops.adapt_datefield_value(r.date), r.requests, r.errors,
                       r.p95_ms, ops.adapt_decimalfield_value(r.cost, 14, 4), stamp]  # fmt: skip
        return params

    def upsert(batch: list) -> tuple[str, list]:
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(batch))
        params: list = []
        for r in batch:
            params += [app_id, r.region_id, ops.adapt_datefield_value(r.date), r.requests,
                       r.errors, r.p95_ms, ops.adapt_decimalfield_value(r.cost, 14, 4),
                       stamp]  # fmt: skip
        return (
            f"INSERT INTO {usage} {_USAGE_COLUMNS} VALUES {values}{_USAGE_SET}",
            params,
        )

    if verify is not None and db.vendor != "postgresql":
        raise ValueError("verify= needs PostgreSQL's single write statement")
    try:
        if verify is not None:
            # One statement, as below, that first claims the app row — UPDATE last_seen_at
            # under the cached credentials' conditions, re-evaluated on the newest row
            # version if a rotation or retirement is committing concurrently — and inserts
            # the delivery and the rollups only for the row it returns.
            slug, secret = verify
            sql = (
                f"WITH seen AS (UPDATE {apps} SET last_seen_at = %s WHERE id = %s "
                "AND slug = %s AND state <> %s AND (ingestion_secret = %s OR "
                "(previous_ingestion_secret = %s AND previous_secret_valid_until > %s)) "
                "RETURNING id)"
            )
            params = [stamp, app_id, slug, AppState.RETIRED, secret, secret, stamp]
            if rows:
                # Typed placeholders: a VALUES list in a subquery is typed on its own.
                row_sql = (
                    "(%s::bigint, %s::date, %s::bigint, %s::bigint, %s::double precision, "
                    "%s::numeric, %s::timestamptz)"
                )
                sql += (
                    f", usage AS (INSERT INTO {usage} {_USAGE_COLUMNS} SELECT seen.id, v.* "
                    f"FROM seen, (VALUES {', '.join([row_sql] * len(rows))}) AS v{_USAGE_SET})"
                )
                params += value_params(rows)
            sql += (
                f" INSERT INTO {delivery} (app_id, webhook_id, body_sha256, status_code, "
                "response, received_at) SELECT seen.id, %s, %s, %s, %s::jsonb, %s FROM seen"
            )
            params += delivery_params[1:]
            if not db.in_atomic_block:  # as below: no WAL flush wait
                sql += ", (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
            sql += " RETURNING app_id"
            guard = transaction.atomic() if db.in_atomic_block else nullcontext()

            def write():
                with guard, _prepared_cursor(db) as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchone() is not None

            if not _first_statement(write, retry=False):
                return None
        elif db.vendor == "postgresql":
            # One statement, so one round trip and an implicit transaction: the
            # data-modifying CTEs all run or, on a duplicate webhook id, none does.
            insert = delivery_sql.format(json="%s::jsonb")
            if not db.in_atomic_block:
                # The statement is its own transaction: commit it without waiting for the
                # WAL flush (``SET LOCAL synchronous_commit = off``, as set_config(..., true)
                # so it stays one round trip; the INSERT reads it, so it always runs). The
                # fsync is most of a call's cost. The trade-off, accepted for
                # usage rollups only: if PostgreSQL itself crashes, the last few hundred ms
                # of acknowledged deliveries (at most 3 x wal_writer_delay) can be lost,
                # never half-written. Senders push each day's rollup again (a report
                # replaces its day) and retry unanswered calls, so the next push repairs it.
                # Inside a caller's transaction the setting would outlive this write, so
                # it is left alone there.
                insert = insert.replace(" VALUES (", " SELECT ", 1)[:-1] + (
                    " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
                )
            sql = f"WITH delivery AS ({insert} RETURNING app_id)"
            params = list(delivery_params)
            if rows:
                usage_sql, usage_params = upsert(rows)
                sql += f", usage AS ({usage_sql})"
                params += usage_params
            sql += f" {seen_sql}(SELECT app_id FROM delivery)"
            params.append(stamp)
            # Inside an outer transaction (tests, callers) a savepoint keeps a duplicate
            # from poisoning it; on its own the statement is its own transaction.
            guard = transaction.atomic() if db.in_atomic_block else nullcontext()
            with guard, db.cursor() as cursor:
                cursor.execute(sql, params)
        else:
            with transaction.atomic(), db.cursor() as cursor:
                cursor.execute(delivery_sql.format(json="%s"), delivery_params)
                for start in range(0, len(rows), UPSERT_BATCH):
                    cursor.execute(*upsert(rows[start : start + UPSERT_BATCH]))
                cursor.execute(seen_sql + "%s", [stamp, app_id])
    except IntegrityError:
        previous = telemetry_previous_answer(
            app_id=app_id, webhook_id=webhook_id, body_sha256=body_sha256
        )
        if previous is None:  # not a duplicate delivery: surface the real problem
            raise
        return previous
    return StoredAnswer(202, answer, text=answer_json)


def telemetry_previous_answer(
    *, app_id: int, webhook_id: str, body_sha256: str
) -> StoredAnswer | None:
    """The answer stored for this webhook id, None if there is none; DeliveryConflict if
    the id was used for a different body."""
    previous = (
        TelemetryDelivery.objects.filter(app_id=app_id, webhook_id=webhook_id)
        .values("body_sha256", "status_code", "response")
        .first()
    )
    if previous is None:
        return None
    if previous["body_sha256"] != body_sha256:
        raise DeliveryConflict(webhook_id)
    return StoredAnswer(previous["status_code"], previous["response"], replayed=True)


def telemetry_prune(*, older_than_days: int = 7, now=None) -> int:
    """Forget delivery records older than the retry horizon of any sane sender."""
    now = now or timezone.now()
    deleted, _ = TelemetryDelivery.objects.filter(
        received_at__lt=now - timedelta(days=older_than_days)
    ).delete()
    return deleted
