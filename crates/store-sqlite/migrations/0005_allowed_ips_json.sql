-- API keys' IP allowlists become JSON arrays, like every other list column, so that both
-- backends read and write lists through one store-kit encoding. Rules are addresses or CIDR
-- ranges (validated on creation): no quotes or backslashes to escape.
UPDATE api_keys
SET allowed_ips = CASE WHEN allowed_ips = '' THEN '[]' ELSE '["' || replace(allowed_ips, ',', '","') || '"]' END;
