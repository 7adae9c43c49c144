-- Cost per day and service over the last days
-- param days UInt16 = 30      : window length in days (the window ends on `until`)
-- param until Date = today    : last day of the window (inclusive)
SELECT
    date,
    service,
    sum(cost_usd) AS cost_usd,
    sum(api_calls) AS api_calls
FROM cost_data FINAL
WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
GROUP BY date, service
ORDER BY date, service
