-- Product analytics: the events table (issue 17's contract) and zeta's exact daily rollup of it.
-- A file of its own rather than a section of schema.sql: schema.sql is the seed's usage and cost
-- schema (its statements are run in order, all of them, before rollup.sql), while these objects
-- have their own rollup, view cutoff and backfill (backends/events_rollup.py), and users load
-- events of their own into `events` whatever they do with api_usage.
-- Parameters: {database:Identifier}; {cutoff:UInt32}, the view's cutoff in unix seconds (as in
-- rollup.sql). Statements are separated by lines ending in ';'.
-- `zeta clickhouse init` creates each object that is missing and leaves one that exists as it is.
--
-- events: one row per product event. The name and columns are a contract (docs/product-analytics.md):
-- load your own events into it. event is one of recommendation_served, recommendation_clicked,
-- item_added_to_cart, purchase_completed, session_started (others are kept and ignored);
-- model_version is the version of the model whose recommendation the event follows ('' for none);
-- user_id is a pseudonymous id, never an e-mail. Ordered by (tenant_id, event, event_time), so one
-- tenant's events of one kind over N days are one range of the table.
CREATE TABLE IF NOT EXISTS {database:Identifier}.events (
    event_time DateTime64(3),
    tenant_id String,
    user_id String,
    session_id String,
    event LowCardinality(String),
    item_id String,
    model_version LowCardinality(String),
    properties Map(String, String)
) ENGINE = MergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (tenant_id, event, event_time);

-- zeta_events_daily: events per (tenant, UTC day, model version, event) once parts have merged.
-- A plain count kept as SimpleAggregateFunction(sum): parts merge by adding, so the figures are
-- exact however the inserts were split and whichever parts have merged. Read it with
-- sum(events) grouped by what you need (the ctr and ab_test queries do).
CREATE TABLE IF NOT EXISTS {database:Identifier}.zeta_events_daily (
    date Date,
    tenant_id String,
    model_version LowCardinality(String),
    event LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, model_version, event);

-- zeta_events_daily_staging: where the backfill aggregates the events that predate the view
-- before moving them into the rollup a month at a time (MOVE PARTITION needs the same structure).
CREATE TABLE IF NOT EXISTS {database:Identifier}.zeta_events_daily_staging (
    date Date,
    tenant_id String,
    model_version LowCardinality(String),
    event LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, model_version, event);

-- zeta_events_daily_backfill: what the backfill has done: step 'view' (the view was created with
-- this cutoff), 'staged' (the older events are aggregated in staging; rows = their count) and
-- 'complete' (all of them are in the rollup: the catalog reads it from then on).
CREATE TABLE IF NOT EXISTS {database:Identifier}.zeta_events_daily_backfill (
    step LowCardinality(String),
    cutoff DateTime,
    rows UInt64,
    at DateTime DEFAULT now()
) ENGINE = MergeTree
ORDER BY step;

-- zeta_events_daily_mv: rolls up every insert into events of rows stamped at or after the cutoff;
-- the backfill takes those stamped before it. Days are UTC days. Without a finished rollup the
-- catalog computes the same aggregation from events on the fly (from these lines: one column a
-- line, `expression AS name`), so the two always agree.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.zeta_events_daily_mv
TO {database:Identifier}.zeta_events_daily AS
SELECT
    toDate(event_time, 'UTC') AS date,
    tenant_id AS tenant_id,
    model_version AS model_version,
    event AS event,
    toUInt64(count()) AS events
FROM {database:Identifier}.events
WHERE event_time >= toDateTime({cutoff:UInt32})
GROUP BY date, tenant_id, model_version, event;
