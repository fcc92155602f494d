-- Streaming ingestion, step 1: the Kinesis streams the role may read become relations of this schema.
CREATE EXTERNAL SCHEMA IF NOT EXISTS ${source_schema}
FROM KINESIS
IAM_ROLE '${role_arn}';
