-- A/B test of two model versions for one tenant: CTR and purchase rate, the difference with its 95 % CI and a verdict
-- param tenant String          : the tenant (tenant_id)
-- param version_a String       : the baseline model_version (A)
-- param version_b String       : the challenger model_version (B)
-- param days UInt16 = 7        : window length in days (UTC days; the window ends on `until`)
-- param until Date = today     : last day of the window (inclusive)
--
-- Reads zeta's daily rollup of events (without a finished one, the same counts aggregated from
-- events). Per version: served = recommendation_served events, clicks = recommendation_clicked,
-- purchases = purchase_completed, each under the model_version it carries; ctr_pct = clicks /
-- served * 100, purchase_rate_pct = purchases / served * 100.
-- Three rows: arm 'A', arm 'B' (verdict 'no data' when the version served nothing) and arm
-- 'B - A', the comparison of CTRs, with p = clicks / served of each arm, n = served:
--   diff_pt = (p_B - p_A) * 100, in percentage points;
--   se = sqrt(p_A (1 - p_A) / n_A + p_B (1 - p_B) / n_B) (unpooled);
--   95 % CI = diff ± 1.959964 * se (Wald);
--   z = (p_B - p_A) / se (the two-proportion z-test on the same se, so the verdict is significant
--   exactly when the CI leaves out 0); p_value = erfc(|z| / sqrt 2) (two-sided);
--   verdict: 'B beats A' / 'A beats B' when |z| >= 1.959964 (significant at 5 %), else 'no
--   significant difference'; 'no data ...' when an arm served nothing; 'not testable ...' when
--   each arm's CTR is 0 % or 100 % (se = 0) or an arm counts more clicks than served;
--   needed_per_arm = ceil((1.959964 + 0.841621)^2 (p_A (1 - p_A) + p_B (1 - p_B)) / (p_B - p_A)^2):
--   the served each arm needs to detect the observed difference with this test at alpha 0.05
--   (two-sided) and power 0.8; NULL when the difference is 0.
WITH
    1.959963984540054 AS z_alpha,
    0.8416212335729143 AS z_beta,
    counts AS (
        SELECT
            sumIf(events, model_version = {version_a:String} AND event = 'recommendation_served') AS n_a,
            sumIf(events, model_version = {version_a:String} AND event = 'recommendation_clicked') AS x_a,
            sumIf(events, model_version = {version_a:String} AND event = 'purchase_completed') AS buy_a,
            sumIf(events, model_version = {version_b:String} AND event = 'recommendation_served') AS n_b,
            sumIf(events, model_version = {version_b:String} AND event = 'recommendation_clicked') AS x_b,
            sumIf(events, model_version = {version_b:String} AND event = 'purchase_completed') AS buy_b
        FROM zeta_events_daily
        WHERE tenant_id = {tenant:String}
          AND date > toDate32({until:Date}) - {days:UInt16} AND date <= {until:Date}
          AND model_version IN ({version_a:String}, {version_b:String})
          AND event IN ('recommendation_served', 'recommendation_clicked', 'purchase_completed')
    ),
    stats AS (
        SELECT
            *,
            if(n_a = 0, NULL, x_a / n_a) AS p_a,
            if(n_b = 0, NULL, x_b / n_b) AS p_b,
            sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b) AS se,
            p_b - p_a AS diff,
            if(se > 0, diff / se, NULL) AS z_score,
            multiIf(
                n_a = 0 AND n_b = 0, concat('no data: neither ', {version_a:String}, ' nor ', {version_b:String}, ' served anything'),
                n_a = 0, concat('no data: ', {version_a:String}, ' served nothing'),
                n_b = 0, concat('no data: ', {version_b:String}, ' served nothing'),
                x_a > n_a OR x_b > n_b, 'not testable: an arm counts more clicks than served',
                NOT (se > 0), 'not testable: each arm''s CTR is 0 % or 100 %',
                abs(z_score) >= z_alpha, if(diff > 0, concat({version_b:String}, ' beats ', {version_a:String}),
                                            concat({version_a:String}, ' beats ', {version_b:String})),
                'no significant difference'
            ) AS comparison
        FROM counts
    )
SELECT
    ['A', 'B', 'B - A'][i] AS arm,
    [{version_a:String}, {version_b:String}, concat({version_b:String}, ' - ', {version_a:String})][i] AS model_version,
    if(i = 3, NULL, [n_a, n_b][i]) AS served,
    if(i = 3, NULL, [x_a, x_b][i]) AS clicks,
    [p_a * 100, p_b * 100, NULL][i] AS ctr_pct,
    if(i = 3, NULL, [buy_a, buy_b][i]) AS purchases,
    [if(n_a = 0, NULL, buy_a * 100 / n_a), if(n_b = 0, NULL, buy_b * 100 / n_b), NULL][i] AS purchase_rate_pct,
    if(i = 3, diff * 100, NULL) AS diff_pt,
    if(i = 3 AND isFinite(se), (diff - z_alpha * se) * 100, NULL) AS ci_low_pt,
    if(i = 3 AND isFinite(se), (diff + z_alpha * se) * 100, NULL) AS ci_high_pt,
    if(i = 3, z_score, NULL) AS z,
    if(i = 3 AND z_score IS NOT NULL, erfc(abs(z_score) / sqrt(2)), NULL) AS p_value,
    [if(n_a = 0, 'no data', ''), if(n_b = 0, 'no data', ''), comparison][i] AS verdict,
    if(
        i = 3 AND diff != 0 AND comparison NOT LIKE 'not testable%',
        accurateCastOrNull(ceil(pow(z_alpha + z_beta, 2) * (p_a * (1 - p_a) + p_b * (1 - p_b)) / pow(diff, 2)), 'UInt64'),
        NULL
    ) AS needed_per_arm
FROM stats
ARRAY JOIN [1, 2, 3] AS i
ORDER BY i
