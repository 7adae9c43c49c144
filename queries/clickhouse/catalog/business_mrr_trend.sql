-- MRR per plan on each of the last days: recurring revenue's trend
-- param days UInt16 = 90      : how many days, ending on `until`
-- param until Date = today    : the last day
--
-- business_revenue_by_plan's rule on each day: a tenant counts on day d when toDate(created_at) <= d
-- and (ended_at IS NULL or toDate(ended_at) > d). A (day, plan) without a customer has no row (0).
-- One mrr_usd per tenant: plan changes are not modelled.
SELECT
    d AS day,
    t.plan AS plan,
    count() AS tenants,
    sum(t.mrr) AS mrr_usd
FROM (SELECT toDate(toDate32({until:Date}) - arrayJoin(range(toUInt32({days:UInt16})))) AS d) AS days
CROSS JOIN (
    SELECT plan, mrr_usd AS mrr, toDate(created_at) AS first_day, toDate(ended_at) AS end_day
    FROM tenants FINAL
) AS t
WHERE t.first_day <= d AND (t.end_day IS NULL OR t.end_day > d)
GROUP BY day, plan
ORDER BY day, plan
