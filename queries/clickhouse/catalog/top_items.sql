-- The most clicked and the most purchased items per tenant
-- param tenant String = ''     : only this tenant ('' for all)
-- param days UInt16 = 7        : window length in days (UTC days; the window ends on `until`)
-- param until Date = today     : last day of the window (inclusive)
-- param limit UInt16 = 10      : how many items of each kind per tenant
--
-- Reads events' recommendation_clicked and purchase_completed rows (for one tenant, two ranges of
-- the table). kind is 'clicked' or 'purchased'; events = how many such events name the item,
-- users = how many distinct users they come from; rank 1 is the item with the most events (ties:
-- the smaller item_id first). Rows with an empty item_id are left out.
SELECT
    tenant_id,
    kind,
    row_number() OVER (PARTITION BY tenant_id, kind ORDER BY events DESC, item_id) AS rank,
    item_id,
    events,
    users
FROM (
    SELECT
        tenant_id,
        if(event = 'recommendation_clicked', 'clicked', 'purchased') AS kind,
        item_id,
        count() AS events,
        uniqExact(user_id) AS users
    FROM events
    WHERE ({tenant:String} = '' OR tenant_id = {tenant:String})
      AND event IN ('recommendation_clicked', 'purchase_completed')
      AND event_time >= toDateTime64(toDate32({until:Date}) - ({days:UInt16} - 1), 3, 'UTC')
      AND event_time < toDateTime64(toDate32({until:Date}) + 1, 3, 'UTC')
      AND item_id != ''
    GROUP BY tenant_id, kind, item_id
)
ORDER BY tenant_id, kind, rank
LIMIT {limit:UInt16} BY tenant_id, kind
