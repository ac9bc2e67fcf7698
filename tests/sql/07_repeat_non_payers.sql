-- Buyers whose locks expired more than once
SELECT platform, user_id, count(*) AS expired
FROM reservations
WHERE state = 'expired'
GROUP BY platform, user_id
HAVING count(*) > 1
ORDER BY expired DESC, platform, user_id
