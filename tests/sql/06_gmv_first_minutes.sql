-- GMV and claims over the first ten minutes of the show
SELECT minute, sum(gmv_cents) AS gmv_cents, sum(units) AS units, sum(claims) AS claims
FROM gmv_minute
GROUP BY minute
ORDER BY minute
LIMIT 10
