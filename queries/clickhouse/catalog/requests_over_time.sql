-- Requests per day and tenant over the last days (the Tenants screen's chart)
-- param days UInt16 = 7       : window length in days (the window ends on `until`)
-- param until Date = today    : last day of the window (inclusive)
-- param tenant String = ''    : only this tenant ('' for all)
SELECT
    date,
    tenant_id,
    sum(requests) AS requests
FROM zeta_api_usage_daily
WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
  AND ({tenant:String} = '' OR tenant_id = {tenant:String})
GROUP BY date, tenant_id
ORDER BY date, tenant_id
