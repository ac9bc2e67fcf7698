-- Skus with units still available, as the show ended
SELECT sku, pool, held, sold, available, waitlist
FROM stock
WHERE available > 0
ORDER BY available DESC, sku
LIMIT 10
