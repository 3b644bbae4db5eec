"""SQL of the ingester, on a psycopg connection as the app role (row-level security binds it).

A batch is copied into a temporary staging table (COPY is the fast path into PostgreSQL), then
moved into ``review.submissions`` one tenant at a time — the policy's WITH CHECK only admits the
tenant set for the statement — all in one transaction and one pipelined round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

STAGING_COLUMNS = (
    "tenant_id",
    "tracking_code",
    "submission_id",
    "campaign",
    "subunit",
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
    "submitted_at",
    "stream_id",
)

STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS ingest_staging (
  tenant_id integer, tracking_code text, submission_id text, campaign text, subunit text,
  full_name text, id_number_enc bytea, id_number_hash bytea, phone_enc bytea, phone_hash bytea,
  idea_group text, field text, title text, description text, birth_year smallint, position text,
  workplace text, email text, applied_from text, benefit text, awards text,
  submitted_at timestamptz, stream_id text
) ON COMMIT DELETE ROWS
"""

# Each tenant's statement reads only its own rows of the batch: without this index every one of
# the ~80 statements of a batch would scan the whole staging table.
STAGING_INDEX_DDL = "CREATE INDEX IF NOT EXISTS ingest_staging_tenant ON ingest_staging (tenant_id)"

_COPY = f"COPY ingest_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN"

_MOVE = """
INSERT INTO review.submissions (
  tenant_id, tracking_code, submission_id, campaign_id, unit_id, full_name,
  id_number_enc, id_number_hash, phone_enc, phone_hash, idea_group, field, title, description,
  birth_year, position, workplace, email, applied_from, benefit, awards, status, submitted_at, stream_id)
SELECT s.tenant_id, s.tracking_code, s.submission_id, c.id, u.id, s.full_name,
  s.id_number_enc, s.id_number_hash, s.phone_enc, s.phone_hash, s.idea_group, s.field, s.title, s.description,
  s.birth_year, s.position, s.workplace, s.email, s.applied_from, s.benefit, s.awards, 'received',
  s.submitted_at, s.stream_id
FROM ingest_staging s
JOIN review.campaigns c ON c.code = s.campaign
JOIN review.units u ON u.tenant_id = s.tenant_id AND u.tree_id = c.tree_id AND u.code = s.subunit
WHERE s.tenant_id = %(tenant)s
ON CONFLICT (tenant_id, tracking_code) DO NOTHING
RETURNING tracking_code
"""

_SET_TENANT = "SELECT set_config('app.tenant_id', %s, true)"

_EXISTING = """
SELECT tracking_code, submission_id FROM review.submissions
WHERE tenant_id = %(tenant)s AND tracking_code = ANY(%(codes)s)
"""


def connect(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=False, connect_timeout=3)
    conn.execute(STAGING_DDL)
    conn.execute(STAGING_INDEX_DDL)
    conn.commit()
    return conn


def stage(conn: psycopg.Connection[Any], rows: Iterable[Sequence[Any]]) -> None:
    with conn.cursor() as cur, cur.copy(_COPY) as copy:
        for row in rows:
            copy.write_row(row)


def move(conn: psycopg.Connection[Any], tenants: Iterable[int]) -> dict[int, set[str]]:
    """Insert the staged rows of each tenant; returns the tracking codes actually inserted."""
    pending = []
    with conn.pipeline():
        for tenant in tenants:
            conn.execute(_SET_TENANT, (str(tenant),))
            pending.append((tenant, conn.execute(_MOVE, {"tenant": tenant})))
    return {tenant: {row[0] for row in cur.fetchall()} for tenant, cur in pending}


def existing(conn: psycopg.Connection[Any], tenant: int, codes: list[str]) -> dict[str, str]:
    """tracking code → submission id, for the codes already committed in that tenant."""
    conn.execute(_SET_TENANT, (str(tenant),))
    rows = conn.execute(_EXISTING, {"tenant": tenant, "codes": codes}).fetchall()
    return dict(rows)
