-- zeta's exact daily rollup of api_usage, added beside the user's tables by `zeta clickhouse init`
-- (and by `zeta demo` in its own store). Nothing here touches api_usage or any other table zeta
-- did not create: every name zeta owns starts with zeta_, and the one object named like the
-- seed's (the api_usage_daily view at the end) is created only where that name is free.
--
-- Parameters: {database:Identifier}; {cutoff:UInt32}, the view's cutoff in unix seconds (below); and one
-- {col_NAME:Identifier} per api_usage column zeta reads, NAME being the seed's column name
-- (clickhouse.columns renames them for a table whose columns are named otherwise).
-- Statements are separated by lines ending in ';'.

-- zeta_api_usage_daily: one row per (tenant, day, endpoint, method) once parts have merged.
-- Counters are plain sums; the average and the quantiles are kept as aggregate *states*
-- (AggregatingMergeTree), which merge exactly. The seed's api_usage_daily stores avg() and
-- quantile() results in a SummingMergeTree: merging parts adds averages and percentiles
-- together, so both are wrong as soon as a day spans more than one insert (its request_count
-- stays exact). Read this table with sum(requests), avgMerge(latency_avg) and
-- quantilesTimingMerge(0.5, 0.95, 0.99)(latency_quantiles), grouped by what you need.
CREATE TABLE IF NOT EXISTS {database:Identifier}.zeta_api_usage_daily (
    date Date,
    tenant_id String,
    endpoint String,
    method String,
    requests SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    server_errors SimpleAggregateFunction(sum, UInt64),
    request_bytes SimpleAggregateFunction(sum, UInt64),
    response_bytes SimpleAggregateFunction(sum, UInt64),
    latency_avg AggregateFunction(avg, UInt32),
    latency_quantiles AggregateFunction(quantilesTiming(0.5, 0.95, 0.99), UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, endpoint, method);

-- zeta_api_usage_daily_staging: where the backfill builds one month before moving it into the
-- rollup whole (ALTER TABLE ... MOVE PARTITION: a month is in the rollup entirely or not at all).
-- The rollup's structure, written out (MOVE PARTITION needs it identical; CREATE TABLE ... AS
-- cannot take the database as a parameter).
CREATE TABLE IF NOT EXISTS {database:Identifier}.zeta_api_usage_daily_staging (
    date Date,
    tenant_id String,
    endpoint String,
    method String,
    requests SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    server_errors SimpleAggregateFunction(sum, UInt64),
    request_bytes SimpleAggregateFunction(sum, UInt64),
    response_bytes SimpleAggregateFunction(sum, UInt64),
    latency_avg AggregateFunction(avg, UInt32),
    latency_quantiles AggregateFunction(quantilesTiming(0.5, 0.95, 0.99), UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, endpoint, method);

-- zeta_api_usage_daily_backfill: what the backfill has done, so that running init again neither
-- counts a month twice nor misses one. step is 'view' (the view was created with this cutoff),
-- 'staged' (a month's rows are in staging), 'done' (that month is in the rollup) or 'complete'
-- (every month that had rows before the cutoff is in); rows counts the api_usage rows rolled up.
CREATE TABLE IF NOT EXISTS {database:Identifier}.zeta_api_usage_daily_backfill (
    step LowCardinality(String),
    month Date,
    cutoff DateTime,
    rows UInt64,
    at DateTime DEFAULT now()
) ENGINE = MergeTree
ORDER BY (step, month);

-- zeta_api_usage_daily_mv: rolls up every insert into api_usage of rows stamped at or after the
-- cutoff; the backfill rolls up those stamped before it, reading api_usage. Each row is counted
-- by exactly one of the two, whenever it was inserted. zeta's catalog computes the same
-- aggregation on the fly (from these lines: one column a line, `expression AS name`) where there
-- is no rollup, so the three always agree.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.zeta_api_usage_daily_mv
TO {database:Identifier}.zeta_api_usage_daily AS
SELECT
    {col_date:Identifier} AS date,
    {col_tenant_id:Identifier} AS tenant_id,
    {col_endpoint:Identifier} AS endpoint,
    {col_method:Identifier} AS method,
    toUInt64(count()) AS requests,
    toUInt64(countIf({col_status_code:Identifier} >= 400)) AS errors,
    toUInt64(countIf({col_status_code:Identifier} >= 500)) AS server_errors,
    toUInt64(sum({col_request_size_bytes:Identifier})) AS request_bytes,
    toUInt64(sum({col_response_size_bytes:Identifier})) AS response_bytes,
    avgState(toUInt32({col_latency_ms:Identifier})) AS latency_avg,
    quantilesTimingState(0.5, 0.95, 0.99)(toUInt32({col_latency_ms:Identifier})) AS latency_quantiles
FROM {database:Identifier}.api_usage
WHERE {col_timestamp:Identifier} >= toDateTime({cutoff:UInt32})
GROUP BY date, tenant_id, endpoint, method;

-- api_usage_daily: the seed's daily view by name and columns, for the seed's own queries
-- ("Top 10 tenants by API usage" reads it), computed from the rollup: request_count and
-- total_request_bytes are sums, avg_latency_ms and p95_latency_ms are exact over any window
-- (p95 by quantileTiming, as zeta's queries). A plain VIEW: nothing is stored twice. Where a
-- database already has an api_usage_daily (the seed's own view), it is left as it is.
CREATE VIEW IF NOT EXISTS {database:Identifier}.api_usage_daily AS
SELECT
    tenant_id,
    endpoint,
    date,
    sum(requests) AS request_count,
    avgMerge(latency_avg) AS avg_latency_ms,
    toFloat64(quantilesTimingMerge(0.5, 0.95, 0.99)(latency_quantiles)[2]) AS p95_latency_ms,
    sum(request_bytes) AS total_request_bytes
FROM {database:Identifier}.zeta_api_usage_daily
GROUP BY tenant_id, endpoint, date;
