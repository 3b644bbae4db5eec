"""SQL of the ingester, on a psycopg connection as the ingester's role (``sangkien_ingest``).

That role bypasses row-level security, because PostgreSQL refuses ``COPY FROM`` into a table
under it and COPY is the fast path in; it may only read the org tree and insert (and read back)
submissions (review migration 0003). Each row's tenant is the one its tracking code names
(checked in ingest.parse) and the composite foreign key (tenant_id, unit_id) refuses a unit of
another tenant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

COLUMNS = (
    "tenant_id",
    "tracking_code",
    "submission_id",
    "campaign_id",
    "unit_id",
    "full_name",
    "id_number_enc",
    "id_number_hash",
    "phone_enc",
    "phone_hash",
    "idea_group",
    "field",
    "title",
    "description",
    "birth_year",
    "position",
    "workplace",
    "email",
    "applied_from",
    "benefit",
    "awards",
    "status",
    "submitted_at",
    "stream_id",
)
_COLUMN_LIST = ", ".join(COLUMNS)

_COPY = f"COPY review.submissions ({_COLUMN_LIST}) FROM STDIN"

STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS ingest_staging (
  tenant_id integer, tracking_code text, submission_id text, campaign_id integer, unit_id bigint,
  full_name text, id_number_enc bytea, id_number_hash bytea, phone_enc bytea, phone_hash bytea,
  idea_group text, field text, title text, description text, birth_year smallint, position text,
  workplace text, email text, applied_from text, benefit text, awards text, status text,
  submitted_at timestamptz, stream_id text
) ON COMMIT DELETE ROWS
"""

_STAGE = f"COPY ingest_staging ({_COLUMN_LIST}) FROM STDIN"

# The column list is this module's constant, never input.
_INSERT_NEW = (
    f"INSERT INTO review.submissions ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM ingest_staging "  # noqa: S608
    "ON CONFLICT (tenant_id, tracking_code) DO NOTHING RETURNING tenant_id, tracking_code"
)

_EXISTING = """
SELECT s.tenant_id, s.tracking_code, s.submission_id
FROM review.submissions s
JOIN unnest(%(tenants)s::integer[], %(codes)s::text[]) AS k(tenant_id, tracking_code)
  ON s.tenant_id = k.tenant_id AND s.tracking_code = k.tracking_code
"""

_CAMPAIGNS = "SELECT code, id, tree_id FROM review.campaigns"
_UNITS = "SELECT tenant_id, tree_id, code, id FROM review.units"


def connect(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=False, connect_timeout=3)
    conn.execute(STAGING_DDL)
    conn.commit()
    return conn


def org_tree(conn: psycopg.Connection[Any]) -> tuple[dict[str, tuple[int, int]], dict[tuple[int, int, str], int]]:
    """campaign code → (id, tree id); (tenant id, tree id, unit code) → unit id."""
    campaigns = {code: (cid, tree) for code, cid, tree in conn.execute(_CAMPAIGNS)}
    units = {(tenant, tree, code): uid for tenant, tree, code, uid in conn.execute(_UNITS)}
    conn.commit()  # a read; leave no transaction open between batches
    return campaigns, units


def copy(conn: psycopg.Connection[Any], rows: Iterable[Sequence[Any]]) -> None:
    """Every row, or none: one duplicate tracking code fails the whole COPY."""
    with conn.cursor() as cur, cur.copy(_COPY) as cp:
        for row in rows:
            cp.write_row(row)


def insert_new(conn: psycopg.Connection[Any], rows: Sequence[Sequence[Any]]) -> set[tuple[int, str]]:
    """Insert the rows whose (tenant, tracking code) is new; returns those keys."""
    with conn.cursor() as cur:
        with cur.copy(_STAGE) as cp:
            for row in rows:
                cp.write_row(row)
        cur.execute(_INSERT_NEW)
        return {(t, c) for t, c in cur.fetchall()}


def existing(conn: psycopg.Connection[Any], keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """(tenant id, tracking code) → submission id, for the keys already committed."""
    rows = conn.execute(_EXISTING, {"tenants": [t for t, _ in keys], "codes": [c for _, c in keys]}).fetchall()
    return {(t, c): sid for t, c, sid in rows}
