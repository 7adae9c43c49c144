-- Availability per tenant over the last days against its plan's SLA target
-- param days UInt16 = 30      : window length in days (the window ends on `until`)
-- param until Date = today    : last day of the window (inclusive)
--
-- availability_pct: the share of requests that were not server errors (5xx). Targets: starter
-- 99 %, pro 99.9 %, enterprise 99.95 % (a tenant without a known plan is held to 99 %).
-- met is 1 when availability_pct >= target_pct. Misses first, worst first.
WITH
    usage AS (
        SELECT tenant_id, sum(requests) AS requests, sum(server_errors) AS server_errors
        FROM zeta_api_usage_daily
        WHERE date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
        GROUP BY tenant_id
    )
SELECT
    u.tenant_id AS tenant_id,
    t.name AS name,
    t.plan AS plan,
    u.requests AS requests,
    u.server_errors AS server_errors,
    (u.requests - u.server_errors) * 100 / u.requests AS availability_pct,
    multiIf(t.plan = 'enterprise', 99.95, t.plan = 'pro', 99.9, 99.0) AS target_pct,
    toUInt8(availability_pct >= target_pct) AS met
FROM usage AS u
LEFT JOIN (SELECT tenant_id, name, plan FROM tenants FINAL) AS t ON t.tenant_id = u.tenant_id
ORDER BY met, availability_pct, tenant_id
