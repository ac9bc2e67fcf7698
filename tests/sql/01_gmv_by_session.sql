-- GMV, units and orders per show (the summary's gmv_cents and units_sold)
SELECT session_id,
       sum(gmv_cents) AS gmv_cents,
       sum(CASE WHEN outcome = 'refunded' THEN -qty ELSE qty END) AS units,
       count(*) AS order_events
FROM orders
GROUP BY session_id
ORDER BY session_id
