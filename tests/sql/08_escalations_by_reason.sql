-- Moderator workload: escalations by reason
SELECT reason, count(*) AS escalations
FROM claims
WHERE outcome = 'escalated'
GROUP BY reason
ORDER BY escalations DESC, reason
