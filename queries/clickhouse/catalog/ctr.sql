-- Click-through rate (clicks / served recommendations) by tenant, model version and day
-- param tenant String = ''     : only this tenant ('' for all)
-- param days UInt16 = 7        : window length in days (UTC days; the window ends on `until`)
-- param until Date = today     : last day of the window (inclusive)
--
-- Reads zeta's daily rollup of events, zeta_events_daily (without a finished one, the same counts
-- aggregated from events inside ClickHouse). served = recommendation_served events, clicks =
-- recommendation_clicked events, each counted under the model_version the event carries;
-- ctr_pct = clicks / served * 100, NULL on a day a version served nothing. A row per tenant,
-- version and day with any served or clicked event.
SELECT
    date,
    tenant_id,
    model_version,
    sumIf(events, event = 'recommendation_served') AS served,
    sumIf(events, event = 'recommendation_clicked') AS clicks,
    if(served = 0, NULL, clicks * 100 / served) AS ctr_pct
FROM zeta_events_daily
WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
  AND ({tenant:String} = '' OR tenant_id = {tenant:String})
  AND event IN ('recommendation_served', 'recommendation_clicked')
GROUP BY date, tenant_id, model_version
ORDER BY date, tenant_id, model_version
