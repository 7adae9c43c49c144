-- Monthly and annual recurring revenue per plan, with the number of tenants on it
SELECT
    plan,
    count() AS tenants,
    sum(mrr_usd) AS mrr_usd,
    mrr_usd * 12 AS arr_usd
FROM tenants FINAL
GROUP BY plan
ORDER BY mrr_usd DESC, plan
