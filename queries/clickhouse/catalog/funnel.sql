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
            -- the user's events in time order (at the same millisecond the earlier step first), numbered:
            -- (time in ms, step 1-4, position)
            arraySort(groupArray((
                toUnixTimestamp64Milli(event_time),
                multiIf(event = 'recommendation_served', 1, event = 'recommendation_clicked', 2,
                        event = 'item_added_to_cart', 3, 4)
            ))) AS sorted,
            arrayMap((e, i) -> (e.1, e.2, i), sorted, arrayEnumerate(sorted)) AS evs,
            -- at each position, the next event of step k at or after it (arrayReverseFill: one pass)
            arrayReverseFill(e -> e.2 = 2, evs) AS next2,
            arrayReverseFill(e -> e.2 = 3, evs) AS next3,
            arrayReverseFill(e -> e.2 = 4, evs) AS next4,
            -- one chain per served: positions (p1, p2, p3, p4) of its steps, 0 for a step not reached in time
            arrayMap(s -> (s.3, if(next2[s.3].2 = 2 AND next2[s.3].1 <= s.1 + window_ms, next2[s.3].3, 0)),
                     arrayFilter(e -> e.2 = 1, evs)) AS c2,
            arrayMap(c -> (c.1, c.2, if(c.2 > 0 AND next3[c.2].2 = 3 AND next3[c.2].1 <= evs[c.1].1 + window_ms,
                                        next3[c.2].3, 0)), c2) AS c3,
            arrayMap(c -> (c.1, c.2, c.3, if(c.3 > 0 AND next4[c.3].2 = 4 AND next4[c.3].1 <= evs[c.1].1 + window_ms,
                                             next4[c.3].3, 0)), c3) AS c4,
            -- the earliest chain that reaches the user's furthest step, as times in ms
            arrayFirst(c -> 1 + (c.2 > 0) + (c.3 > 0) + (c.4 > 0) = level, c4) AS chain_pos,
            (evs[chain_pos.1].1, evs[chain_pos.2].1, evs[chain_pos.3].1, evs[chain_pos.4].1) AS chain
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
