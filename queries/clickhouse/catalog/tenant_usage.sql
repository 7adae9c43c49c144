-- One tenant's usage by endpoint over the last days: requests, errors, latency, bytes
-- param tenant String         : the tenant id, e.g. tenant_001
-- param days UInt16 = 30      : window length in days (the window ends on `until`)
-- param until Date = today    : last day of the window (inclusive)
SELECT
    endpoint,
    method,
    sum(requests) AS requests,
    sum(errors) AS errors,
    errors * 100 / requests AS error_rate_pct,
    avgMerge(latency_avg) AS avg_ms,
    quantilesTimingMerge(0.5, 0.95, 0.99)(latency_quantiles)[2] AS p95_ms,
    sum(request_bytes) + sum(response_bytes) AS bytes
FROM zeta_api_usage_daily
WHERE tenant_id = {tenant:String}
  AND date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
GROUP BY endpoint, method
ORDER BY requests DESC, endpoint, method
