-- Cost per API call per day and service over the last days (NULL on a day without calls)
-- param days UInt16 = 30      : window length in days (the window ends on `until`)
-- param until Date = today    : last day of the window (inclusive)
SELECT
    date,
    service,
    sum(api_calls) AS api_calls,
    sum(cost_usd) AS cost_usd,
    if(api_calls > 0, cost_usd / api_calls, NULL) AS cost_per_call_usd
FROM cost_data FINAL
WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
GROUP BY date, service
ORDER BY date, service
