-- Kinesis stream names keep their case: let identifiers keep it too, for this session.
SET enable_case_sensitive_identifier TO true;
