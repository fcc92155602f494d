-- Streaming ingestion, step 2: a materialized view over the stream, refreshed automatically.
-- Records that are not JSON stay out of the view (the lake's quarantine keeps them).
-- Stream names are case sensitive; the session setting above keeps the name as written.
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
