-- Reservations by state (created = all rows) and the units they hold or held
SELECT state, count(*) AS reservations, sum(qty) AS units
FROM reservations
GROUP BY state
ORDER BY state
