-- Streaming ingestion, step 2: a materialized view over the stream, refreshed automatically.
-- Records that are not JSON stay out of the view (the lake's quarantine keeps them).
-- Stream names are case sensitive: the name is double-quoted, and the workgroup's
-- enable_case_sensitive_identifier (set for every session, auto refresh included) keeps its case.
CREATE MATERIALIZED VIEW ${view_name} AUTO REFRESH YES AS
SELECT
    approximate_arrival_timestamp,
    partition_key,
    shard_id,
    sequence_number,
    refresh_time,
    JSON_PARSE(kinesis_data) AS event
FROM ${source_schema}."${stream_name}"
WHERE CAN_JSON_PARSE(kinesis_data);
