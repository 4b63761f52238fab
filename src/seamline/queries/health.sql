-- The server's health check (/healthz).

-- name: ping
SELECT 1;
