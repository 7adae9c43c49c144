-- Tenant usage and cost analytics: the tables the Tenants and Cost screens, the SQL console and
-- `zeta sql --name ...` read. The database is the {database:Identifier} server-side parameter;
-- statements are separated by lines ending in ';' (zeta runs them one at a time).
--
-- api_usage: one row per API request (the seed's table, same columns).
CREATE TABLE IF NOT EXISTS {database:Identifier}.api_usage (
    timestamp DateTime,
    date Date DEFAULT toDate(timestamp),
    tenant_id String,
    user_id String,
    endpoint String,
    method String,
    status_code UInt16,
    response_time_ms UInt32,
    request_size_bytes UInt32,
    response_size_bytes UInt32
) ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, timestamp);

-- api_usage_daily: one row per (tenant, day, endpoint, method) once parts have merged.
-- Counters are plain sums; the average and the quantiles are kept as aggregate *states*
-- (AggregatingMergeTree), which merge exactly. The seed stored avg() and quantile() results
-- in a SummingMergeTree: merging parts then added averages and percentiles together, so both
-- were wrong as soon as a day spanned more than one insert. Read this table with
-- sum(requests), avgMerge(response_time_avg) and
-- quantilesTimingMerge(0.5, 0.95, 0.99)(response_time_quantiles), grouped by what you need.
CREATE TABLE IF NOT EXISTS {database:Identifier}.api_usage_daily (
    date Date,
    tenant_id String,
    endpoint String,
    method String,
    requests SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    server_errors SimpleAggregateFunction(sum, UInt64),
    request_bytes SimpleAggregateFunction(sum, UInt64),
    response_bytes SimpleAggregateFunction(sum, UInt64),
    response_time_avg AggregateFunction(avg, UInt32),
    response_time_quantiles AggregateFunction(quantilesTiming(0.5, 0.95, 0.99), UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, endpoint, method);

-- Fills api_usage_daily from every insert into api_usage (rows inserted before the view
-- existed are not rolled up; `zeta clickhouse init` creates both together).
CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.api_usage_daily_mv
TO {database:Identifier}.api_usage_daily AS
SELECT
    date,
    tenant_id,
    endpoint,
    method,
    toUInt64(count()) AS requests,
    toUInt64(countIf(status_code >= 400)) AS errors,
    toUInt64(countIf(status_code >= 500)) AS server_errors,
    toUInt64(sum(request_size_bytes)) AS request_bytes,
    toUInt64(sum(response_size_bytes)) AS response_bytes,
    avgState(response_time_ms) AS response_time_avg,
    quantilesTimingState(0.5, 0.95, 0.99)(response_time_ms) AS response_time_quantiles
FROM {database:Identifier}.api_usage
GROUP BY date, tenant_id, endpoint, method;

-- cost_data: what each service cost per day, split by tenant, and the calls it served.
-- ReplacingMergeTree so a writer may re-write a day (read with FINAL or GROUP BY the key).
CREATE TABLE IF NOT EXISTS {database:Identifier}.cost_data (
    date Date,
    service LowCardinality(String),
    tenant_id String,
    cost_usd Float64,
    api_calls UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (date, service, tenant_id);

-- tenants: who the tenants are, their plan, revenue and monthly call quota.
CREATE TABLE IF NOT EXISTS {database:Identifier}.tenants (
    tenant_id String,
    name String,
    plan LowCardinality(String),
    mrr_usd Float64,
    monthly_quota_calls UInt64,
    created_at DateTime
) ENGINE = ReplacingMergeTree
ORDER BY tenant_id;
