-- Calls this calendar month against each tenant's monthly quota, with a month-end projection
-- param until Date = today    : count the month of this day, up to and including it
--
-- calls: requests from the first of the month to `until`. projected_pct assumes the pace so far
-- holds: calls / days elapsed (including `until`) * days in the month / quota * 100.
-- Every tenant is listed, with 0 calls if it made none; the percentages are NULL without a quota.
WITH
    month_usage AS (
        SELECT tenant_id, sum(requests) AS calls
        FROM zeta_api_usage_daily
        WHERE date >= toStartOfMonth({until:Date}) AND date <= {until:Date}
        GROUP BY tenant_id
    )
SELECT
    t.tenant_id AS tenant_id,
    t.name AS name,
    t.plan AS plan,
    toUInt64(ifNull(m.calls, 0)) AS calls,
    t.monthly_quota_calls AS monthly_quota_calls,
    if(t.monthly_quota_calls > 0, calls * 100 / t.monthly_quota_calls, NULL) AS used_pct,
    if(t.monthly_quota_calls > 0,
       calls / toDayOfMonth({until:Date}) * toDayOfMonth(toLastDayOfMonth({until:Date})) / t.monthly_quota_calls * 100,
       NULL) AS projected_pct
FROM (SELECT tenant_id, name, plan, monthly_quota_calls FROM tenants FINAL) AS t
LEFT JOIN month_usage AS m ON m.tenant_id = t.tenant_id
ORDER BY used_pct DESC NULLS LAST, tenant_id
