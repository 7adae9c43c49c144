-- Top tenants by requests over the last days, with error rate, p95 latency, bytes and quota use
-- param days UInt16 = 7       : window length in days (the window ends on `until`)
-- param until Date = today    : last day of the window (inclusive)
-- param limit UInt32 = 10     : how many tenants
-- param tenant String = ''    : only this tenant ('' for all)
--
-- Reads zeta's daily rollup (without one, api_usage aggregated inside ClickHouse). quota_used_pct
-- is this calendar month's calls up to `until` against the plan's monthly quota (NULL when the
-- tenant has none).
WITH
    window_usage AS (
        SELECT
            tenant_id,
            sum(requests) AS requests,
            sum(errors) AS errors,
            quantilesTimingMerge(0.5, 0.95, 0.99)(latency_quantiles)[2] AS p95_ms,
            sum(request_bytes) + sum(response_bytes) AS bytes
        FROM zeta_api_usage_daily
        WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
          AND ({tenant:String} = '' OR tenant_id = {tenant:String})
        GROUP BY tenant_id
    ),
    month_usage AS (
        SELECT tenant_id, sum(requests) AS calls
        FROM zeta_api_usage_daily
        WHERE date >= toStartOfMonth({until:Date}) AND date <= {until:Date}
          AND ({tenant:String} = '' OR tenant_id = {tenant:String})
        GROUP BY tenant_id
    ),
    plans AS (
        SELECT tenant_id, name, plan, monthly_quota_calls FROM tenants FINAL
    )
SELECT
    w.tenant_id AS tenant_id,
    p.name AS name,
    p.plan AS plan,
    w.requests AS requests,
    w.errors AS errors,
    w.errors * 100 / w.requests AS error_rate_pct,
    w.p95_ms AS p95_ms,
    w.bytes AS bytes,
    p.monthly_quota_calls AS quota_calls,
    if(p.monthly_quota_calls > 0, m.calls * 100 / p.monthly_quota_calls, NULL) AS quota_used_pct
FROM window_usage AS w
LEFT JOIN month_usage AS m ON m.tenant_id = w.tenant_id
LEFT JOIN plans AS p ON p.tenant_id = w.tenant_id
ORDER BY requests DESC, tenant_id
LIMIT {limit:UInt32}
