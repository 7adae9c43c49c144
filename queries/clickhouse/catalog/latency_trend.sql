-- Latency percentiles (p50, p95, p99) per day, over all tenants or one
-- param days UInt16 = 30      : window length in days (the window ends on `until`)
-- param until Date = today    : last day of the window (inclusive)
-- param tenant String = ''    : only this tenant ('' for all)
--
-- quantileTiming: exact for up to about 5,670 requests a day; beyond that exact below 1,024 ms
-- and rounded to 16 ms above (see queries/clickhouse/README.md).
SELECT
    date,
    sum(requests) AS requests,
    quantilesTimingMerge(0.5, 0.95, 0.99)(latency_quantiles)[1] AS p50_ms,
    quantilesTimingMerge(0.5, 0.95, 0.99)(latency_quantiles)[2] AS p95_ms,
    quantilesTimingMerge(0.5, 0.95, 0.99)(latency_quantiles)[3] AS p99_ms
FROM zeta_api_usage_daily
WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
  AND ({tenant:String} = '' OR tenant_id = {tenant:String})
GROUP BY date
ORDER BY date
