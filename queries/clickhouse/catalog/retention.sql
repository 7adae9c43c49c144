-- Weekly retention of one tenant: cohorts by each user's first session, and the share back in each later week
-- param tenant String          : the tenant (tenant_id)
-- param weeks UInt16 = 8       : how many cohorts: the week of `until` and the weeks before it
-- param until Date = today     : the last day counted (its week is the newest cohort, and may be partial)
--
-- Reads events' session_started rows of the tenant up to `until` (one range of the table: it is
-- ordered by tenant, event and time). Weeks are ISO weeks (Monday to Sunday) of UTC days.
-- A user's cohort is the week of the user's first session_started ever (not only inside the
-- window: a user first seen before the oldest cohort belongs to none). week = 0 is the cohort
-- week itself (returned = users); for week n >= 1, returned = the cohort's users with at least one
-- session_started in the n-th week after it, up to the week of `until`, and returned_pct =
-- returned / users * 100. Rows: one per cohort and week, at most weeks * (weeks + 1) / 2.
WITH
    toMonday(toDate32({until:Date})) AS last_week,
    per_user AS (
        SELECT
            user_id,
            toMonday(toDate(min(event_time), 'UTC')) AS cohort_week,
            groupUniqArray(toMonday(toDate(event_time, 'UTC'))) AS active_weeks
        FROM events
        WHERE tenant_id = {tenant:String}
          AND event = 'session_started'
          AND event_time < toDateTime64(toDate32({until:Date}) + 1, 3, 'UTC')
        GROUP BY user_id
        HAVING cohort_week > last_week - 7 * {weeks:UInt16}
    ),
    cohorts AS (
        SELECT cohort_week, count() AS cohort_users, groupArray(active_weeks) AS users_weeks
        FROM per_user
        GROUP BY cohort_week
    )
SELECT
    cohort_week,
    cohort_users AS users,
    week,
    arrayCount(w -> has(w, addWeeks(cohort_week, week)), users_weeks) AS returned,
    returned * 100 / cohort_users AS returned_pct
FROM cohorts
ARRAY JOIN range(toUInt32(dateDiff('week', cohort_week, last_week) + 1)) AS week
ORDER BY cohort_week, week
