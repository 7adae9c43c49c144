-- New and churned tenants of the last days: who, which day, plan and MRR
-- param days UInt16 = 90      : how many days, ending on `until`
-- param until Date = today    : the last day (inclusive)
--
-- new: created_at's day in the window; churned: ended_at's day in the window. A tenant that
-- started and ended inside it has both rows. Newest first.
SELECT change, day, tenant_id, name, plan, mrr_usd
FROM (
    SELECT 'new' AS change, toDate(created_at) AS day, tenant_id, name, plan, mrr_usd
    FROM tenants FINAL
    WHERE toDate(created_at) > toDate32({until:Date}) - {days:UInt16} AND toDate(created_at) <= {until:Date}
    UNION ALL
    SELECT 'churned' AS change, toDate(assumeNotNull(ended_at)) AS day, tenant_id, name, plan, mrr_usd
    FROM tenants FINAL
    WHERE ended_at IS NOT NULL
      AND toDate(assumeNotNull(ended_at)) > toDate32({until:Date}) - {days:UInt16}
      AND toDate(assumeNotNull(ended_at)) <= {until:Date}
)
ORDER BY day DESC, change, tenant_id
