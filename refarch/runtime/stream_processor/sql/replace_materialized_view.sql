-- On an update of the view's definition: drop it, so the new definition can be created. The new view
-- re-reads what the stream still retains; older records are in the S3 lake, the system of record.
DROP MATERIALIZED VIEW IF EXISTS ${view_name};
