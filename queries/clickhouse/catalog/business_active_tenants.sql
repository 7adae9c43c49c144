-- Active tenants: distinct tenants with requests in the last 1, 7 and 30 days, and in the period before each
-- param until Date = today    : the last day of every window (inclusive)
--
-- A window of N days is the N whole UTC days ending on `until` (the rollup counts by day, so the
-- "24 h" figure is the day `until`); its previous period is the N days before it. first_day is the
-- first day with usage among the 60 days read: a previous period that starts before it is partial
-- (the data do not reach back that far). No row for a window without usage in the 60 days.
SELECT
    days,
    uniqExactIf(tenant_id, date > toDate32({until:Date}) - days) AS active,
    uniqExactIf(tenant_id, date <= toDate32({until:Date}) - days AND date > toDate32({until:Date}) - 2 * days) AS previous,
    toDate(toDate32({until:Date}) - 2 * days + 1) AS previous_from,
    min(date) AS first_day
FROM zeta_api_usage_daily
ARRAY JOIN [1, 7, 30] AS days
WHERE date > toDate32({until:Date}) - 60 AND date <= {until:Date}
GROUP BY days
ORDER BY days
