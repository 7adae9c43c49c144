-- Endpoints whose error rate (status >= 400) is above a threshold over the last days
-- param days UInt16 = 1                   : window length in days (the window ends on `until`)
-- param until Date = today                : last day of the window (inclusive)
-- param min_error_rate_pct Float64 = 1.0  : show endpoints above this error rate, in percent
--
-- server_errors counts the 5xx among the errors; server_error_rate_pct is their share, the seed's
-- "Error rate by endpoint" (which lists endpoints whose 5xx share is above 1 %).
SELECT
    endpoint,
    method,
    sum(requests) AS requests,
    sum(errors) AS errors,
    errors * 100 / requests AS error_rate_pct,
    sum(server_errors) AS server_errors,
    server_errors * 100 / requests AS server_error_rate_pct
FROM zeta_api_usage_daily
WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
GROUP BY endpoint, method
HAVING error_rate_pct > {min_error_rate_pct:Float64}
ORDER BY error_rate_pct DESC, requests DESC, endpoint, method
