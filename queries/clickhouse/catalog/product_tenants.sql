-- Tenants with recommendations served or clicked in the window, most served first (the Product screen's picker)
-- param days UInt16 = 7        : window length in days (UTC days; the window ends on `until`)
-- param until Date = today     : last day of the window (inclusive)
-- param limit UInt32 = 1000    : at most this many tenants (the most served)
--
-- Reads zeta's daily rollup of events as ctr does (without a finished one, the same counts
-- aggregated from events). served and clicks as in ctr, summed over the window's days and the
-- versions; tenants_in_window = how many tenants have such events, those past the limit too.
-- Ties in served go by tenant_id.
SELECT
    tenant_id,
    sumIf(events, event = 'recommendation_served') AS served,
    sumIf(events, event = 'recommendation_clicked') AS clicks,
    count() OVER () AS tenants_in_window
FROM zeta_events_daily
WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
  AND event IN ('recommendation_served', 'recommendation_clicked')
GROUP BY tenant_id
ORDER BY served DESC, tenant_id
LIMIT {limit:UInt32}
