-- What each tenant cost over the last days, against its revenue (MRR)
-- param days UInt16 = 30      : window length in days (the window ends on `until`)
-- param until Date = today    : last day of the window (inclusive)
--
-- monthly_cost_usd scales the window's cost to 30 days; cost_to_mrr_pct is that against MRR
-- (NULL without MRR). Tenants without cost rows in the window are not listed.
WITH
    spend AS (
        SELECT tenant_id, sum(cost_usd) AS cost_usd, sum(api_calls) AS api_calls
        FROM cost_data FINAL
        WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
        GROUP BY tenant_id
    )
SELECT
    s.tenant_id AS tenant_id,
    t.name AS name,
    t.plan AS plan,
    t.mrr_usd AS mrr_usd,
    s.cost_usd AS cost_usd,
    s.api_calls AS api_calls,
    if(s.api_calls > 0, s.cost_usd / s.api_calls, NULL) AS cost_per_call_usd,
    s.cost_usd * 30 / {days:UInt16} AS monthly_cost_usd,
    if(t.mrr_usd > 0, monthly_cost_usd / t.mrr_usd * 100, NULL) AS cost_to_mrr_pct
FROM spend AS s
LEFT JOIN (SELECT tenant_id, name, plan, mrr_usd FROM tenants FINAL) AS t ON t.tenant_id = s.tenant_id
ORDER BY cost_usd DESC, tenant_id
