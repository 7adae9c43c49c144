-- Monthly and annual recurring revenue per plan, with the number of tenants on it
--
-- Current customers only: a tenant whose ended_at has passed (a former tenant) is left out.
SELECT
    plan,
    count() AS tenants,
    sum(mrr_usd) AS mrr_usd,
    mrr_usd * 12 AS arr_usd
FROM tenants FINAL
WHERE ended_at IS NULL OR ended_at > now()
GROUP BY plan
ORDER BY mrr_usd DESC, plan
