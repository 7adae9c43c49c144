-- MRR and ARR per plan on a day, counting the tenants that are customers that day
-- param until Date = today    : the day
--
-- A tenant is a customer on day d when toDate(created_at) <= d and (ended_at IS NULL or
-- toDate(ended_at) > d): it counts from the day it starts, not on the day it ends. Every plan of
-- the table is listed, with 0 when none of its tenants is a customer that day. One mrr_usd per
-- tenant: a plan change is not modelled (the tenant counts at its current plan and MRR throughout).
SELECT
    plan,
    countIf(customer) AS tenants,
    sumIf(mrr, customer) AS mrr_usd,
    sumIf(mrr, customer) * 12 AS arr_usd
FROM (
    SELECT
        plan,
        mrr_usd AS mrr,
        toDate(created_at) <= {until:Date} AND (ended_at IS NULL OR toDate(ended_at) > {until:Date}) AS customer
    FROM tenants FINAL
)
GROUP BY plan
ORDER BY mrr_usd DESC, plan
