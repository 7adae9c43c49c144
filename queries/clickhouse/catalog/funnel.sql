-- Recommendation funnel of one tenant: users reaching served -> clicked -> added to cart -> purchased, in order
-- param tenant String          : the tenant (tenant_id)
-- param days UInt16 = 7        : window length in days (UTC days; the window ends on `until`)
-- param until Date = today     : last day of the window (inclusive)
-- param window_hours UInt32 = 24 : a user's steps count when they fall within this many hours of the step 1 they follow
--
-- Reads events (ordered by tenant, event and time: the tenant's four events over the window are
-- four ranges of the table). The steps are recommendation_served, recommendation_clicked,
-- item_added_to_cart and purchase_completed; other events are ignored.
-- users: a user reaches step k when windowFunnel(window_hours) over the user's events in the
--   window reaches level k: some served at t1, then a click at t2 >= t1, a cart at t3 >= t2,
--   a purchase at t4 >= t3, each <= t1 + window_hours (a step repeated is harmless; events
--   are taken in time order whatever order they were inserted in; at the same millisecond the
--   earlier step counts first).
-- conv_prev_pct = users(k) / users(k-1) * 100; conv_first_pct = users(k) / users(1) * 100
--   (NULL where the denominator is 0).
-- median_s_from_prev: per user who reaches step k, the seconds from the user's step k-1 to the
--   first occurrence of step k at or after it, inside the window of the user's chain's step 1.
--   The user's chain is the one from the earliest served that reaches the user's furthest step,
--   each later step being the first occurrence at or after the step before. The median is the
--   lower middle value (quantileExactLow(0.5)); NULL for step 1 and where no user reached step k.
WITH
    {window_hours:UInt32} * 3600000 AS window_ms,
    per_user AS (
        SELECT
            user_id,
            windowFunnel(window_ms)(
                toUInt64(toUnixTimestamp64Milli(event_time)),
                event = 'recommendation_served',
                event = 'recommendation_clicked',
                event = 'item_added_to_cart',
                event = 'purchase_completed'
            ) AS level,
            -- the user's events in time order, each as time in ms * 4 + step - 1 (at the same millisecond the
            -- earlier step first): sorting plain numbers is the cheap part of the query
            arraySort(groupArray(toUInt64(toUnixTimestamp64Milli(event_time)) * 4
                + multiIf(event = 'recommendation_served', 0, event = 'recommendation_clicked', 1,
                          event = 'item_added_to_cart', 2, 3))) AS evs,
            -- Aligned with evs, for each position: the next click at or after it (nc), the first cart
            -- after that click (nc3) and the first purchase after that cart (nc4), each as evs's
            -- numbers (the step in % 4; another step there means none). Built with arrayReverseFill
            -- over arrays of the same length only: a lambda that captured evs would copy it once
            -- per element, quadratic for a user with thousands of events.
            arrayReverseFill(v -> v % 4 = 3, evs) AS n4,
            arrayReverseFill(v -> v % 4 = 2, evs) AS n3,
            arrayReverseFill((x, v) -> v % 4 = 2, arrayMap((v, p) -> if(v % 4 = 2, p, 0), evs, n4), evs) AS n34,
            arrayReverseFill(v -> v % 4 = 1, evs) AS nc,
            arrayReverseFill((x, v) -> v % 4 = 1, arrayMap((v, c) -> if(v % 4 = 1, c, 0), evs, n3), evs) AS nc3,
            arrayReverseFill((x, v) -> v % 4 = 1, arrayMap((v, c) -> if(v % 4 = 1, c, 0), evs, n34), evs) AS nc4,
            -- one chain per served: (t1, t2, t3, t4) in ms, 0 for a step not reached within the window of t1
            arrayMap(
                (v, c2, c3, c4) -> (
                    intDiv(v, 4),
                    if(c2 % 4 = 1 AND intDiv(c2, 4) <= intDiv(v, 4) + window_ms, intDiv(c2, 4), 0),
                    if(c2 % 4 = 1 AND c3 % 4 = 2 AND intDiv(c3, 4) <= intDiv(v, 4) + window_ms, intDiv(c3, 4), 0),
                    if(c2 % 4 = 1 AND c3 % 4 = 2 AND c4 % 4 = 3 AND intDiv(c4, 4) <= intDiv(v, 4) + window_ms,
                       intDiv(c4, 4), 0)
                ),
                arrayFilter((v, c2, c3, c4) -> v % 4 = 0, evs, nc, nc3, nc4),
                arrayFilter((c2, v) -> v % 4 = 0, nc, evs),
                arrayFilter((c3, v) -> v % 4 = 0, nc3, evs),
                arrayFilter((c4, v) -> v % 4 = 0, nc4, evs)
            ) AS chains,
            -- the earliest chain that reaches the user's furthest step
            arrayFirst(c -> 1 + (c.2 > 0) + (c.3 > 0) + (c.4 > 0) = level, chains) AS chain
        FROM events
        WHERE tenant_id = {tenant:String}
          AND event IN ('recommendation_served', 'recommendation_clicked', 'item_added_to_cart', 'purchase_completed')
          AND event_time >= toDateTime64(toDate32({until:Date}) - ({days:UInt16} - 1), 3, 'UTC')
          AND event_time < toDateTime64(toDate32({until:Date}) + 1, 3, 'UTC')
        GROUP BY user_id
    ),
    steps AS (
        SELECT
            [countIf(level >= 1), countIf(level >= 2), countIf(level >= 3), countIf(level >= 4)] AS step_users,
            [
                CAST(NULL AS Nullable(Float64)),
                quantileExactLowIf(0.5)((chain.2 - chain.1) / 1000, level >= 2),
                quantileExactLowIf(0.5)((chain.3 - chain.2) / 1000, level >= 3),
                quantileExactLowIf(0.5)((chain.4 - chain.3) / 1000, level >= 4)
            ] AS step_medians
        FROM per_user
    )
SELECT
    step,
    ['recommendation_served', 'recommendation_clicked', 'item_added_to_cart', 'purchase_completed'][step] AS event,
    step_users[step] AS users,
    if(step = 1 OR step_users[step - 1] = 0, NULL, step_users[step] * 100 / step_users[step - 1]) AS conv_prev_pct,
    if(step_users[1] = 0, NULL, step_users[step] * 100 / step_users[1]) AS conv_first_pct,
    if(step_users[step] = 0, NULL, step_medians[step]) AS median_s_from_prev
FROM steps
ARRAY JOIN [1, 2, 3, 4] AS step
ORDER BY step
