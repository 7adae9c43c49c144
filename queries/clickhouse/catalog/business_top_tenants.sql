-- Top tenants by API usage (the seed's "Top 10 tenants by API usage"), with plan, MRR and quota used
-- param days UInt16 = 30      : the seed's window: from `until` - days to `until`, both included
-- param until Date = today    : the window's last day
-- param limit UInt32 = 10     : how many tenants
--
-- The seed's query (sum(request_count) FROM api_usage_daily WHERE date >= today() - 30, top 10),
-- read from zeta's rollup and joined with the tenants table: name, plan, MRR and whether the
-- tenant has ended. quota_used_pct is this calendar month's calls up to `until` against the
-- monthly quota, as quota_utilization counts it (NULL without a quota). A tenant the tenants
-- table does not know has '' for its name and plan and 0 MRR.
WITH
    usage AS (
        SELECT
            tenant_id,
            sumIf(requests, date >= toDate32({until:Date}) - {days:UInt16}) AS total_requests,
            sumIf(requests, date >= toStartOfMonth({until:Date})) AS month_calls
        FROM zeta_api_usage_daily
        WHERE date >= least(toDate32({until:Date}) - {days:UInt16}, toDate32(toStartOfMonth({until:Date})))
          AND date <= {until:Date}
        GROUP BY tenant_id
    ),
    plans AS (
        SELECT tenant_id, name, plan, mrr_usd, monthly_quota_calls, ended_at FROM tenants FINAL
    )
SELECT
    u.tenant_id AS tenant_id,
    p.name AS name,
    p.plan AS plan,
    p.mrr_usd AS mrr_usd,
    p.ended_at IS NOT NULL AS ended,
    u.total_requests AS total_requests,
    u.month_calls AS month_calls,
    p.monthly_quota_calls AS quota_calls,
    if(p.monthly_quota_calls > 0, u.month_calls * 100 / p.monthly_quota_calls, NULL) AS quota_used_pct
FROM usage AS u
LEFT JOIN plans AS p ON p.tenant_id = u.tenant_id
WHERE u.total_requests > 0
ORDER BY total_requests DESC, tenant_id
LIMIT {limit:UInt32}
