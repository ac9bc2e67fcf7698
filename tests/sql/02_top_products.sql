-- Top products by GMV, with their titles from the run sheet
SELECT p.code, p.title, sum(o.gmv_cents) AS gmv_cents, sum(o.qty) AS units
FROM orders o
JOIN products p ON p.session_id = o.session_id AND p.sku = o.sku
WHERE o.outcome <> 'refunded'
GROUP BY p.code, p.title
ORDER BY gmv_cents DESC, p.code
LIMIT 10
