-- The funnel: comments -> claims -> reserved -> paid
SELECT (SELECT count(*) FROM comments) AS comments,
       (SELECT count(*) FROM comments WHERE reading IN ('claim', 'escalated', 'rejected')) AS claims,
       (SELECT count(*) FROM reservations) AS reserved,
       (SELECT count(*) FROM reservations WHERE state = 'converted') AS paid
