-- Tenant usage and cost analytics: the tables the Tenants and Cost screens, the SQL console and
-- `zeta sql --name ...` read. The database is the {database:Identifier} server-side parameter;
-- statements are separated by lines ending in ';' (zeta runs them one at a time).
-- `zeta clickhouse init` creates each one that is missing and leaves every table that exists as
-- it is; rollup.sql then adds zeta's exact daily rollup beside api_usage.
--
-- api_usage: one row per API request. The seed's table ("Business Analytics (ClickHouse)" in
-- the platform document), with its columns, names, types, engine and keys, so that rows written
-- by a pipeline built on the seed's DDL and rows written here are the same rows.
CREATE TABLE IF NOT EXISTS {database:Identifier}.api_usage (
    timestamp DateTime,
    tenant_id String,
    api_key_id String,
    endpoint String,
    method String,
    status_code UInt16,
    latency_ms UInt32,
    request_size_bytes UInt32,
    response_size_bytes UInt32,
    date Date DEFAULT toDate(timestamp)
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, timestamp);

-- cost_data: what each service cost per day, split by tenant, and the calls it served (zeta's
-- table; the seed's cost query reads its date, service, cost_usd and api_calls).
-- ReplacingMergeTree so a writer may re-write a day (read with FINAL or GROUP BY the key).
CREATE TABLE IF NOT EXISTS {database:Identifier}.cost_data (
    date Date,
    service LowCardinality(String),
    tenant_id String,
    cost_usd Float64,
    api_calls UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (date, service, tenant_id);

-- tenants: who the tenants are, their plan, revenue and monthly call quota (zeta's table), and
-- when each became a customer (created_at) and stopped being one (ended_at; NULL while it still is).
-- One mrr_usd per tenant: plan changes are not modelled (docs/business.md).
CREATE TABLE IF NOT EXISTS {database:Identifier}.tenants (
    tenant_id String,
    name String,
    plan LowCardinality(String),
    mrr_usd Float64,
    monthly_quota_calls UInt64,
    created_at DateTime,
    ended_at Nullable(DateTime)
) ENGINE = ReplacingMergeTree
ORDER BY tenant_id;

-- ended_at came after created_at: a tenants table made before it gets the column (NULL: still a
-- customer). The one change init makes to a table that exists; it adds, never alters or drops.
ALTER TABLE {database:Identifier}.tenants ADD COLUMN IF NOT EXISTS ended_at Nullable(DateTime);
