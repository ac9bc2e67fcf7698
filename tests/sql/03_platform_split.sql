-- Per platform: comments, claims read, GMV
SELECT c.platform, c.comments, c.claims, coalesce(o.gmv_cents, 0) AS gmv_cents
FROM (SELECT platform, count(*) AS comments,
             sum(CASE WHEN reading IN ('claim', 'escalated', 'rejected') THEN 1 ELSE 0 END) AS claims
      FROM comments GROUP BY platform) c
LEFT JOIN (SELECT platform, sum(gmv_cents) AS gmv_cents FROM orders GROUP BY platform) o
  ON o.platform = c.platform
ORDER BY c.platform
