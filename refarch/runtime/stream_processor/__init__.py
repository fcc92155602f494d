"""Lambda code of ``StreamingPipeline``: the Kinesis consumer (``handler``) and the custom
resource that applies the Redshift streaming-ingestion SQL (``apply_sql``)."""
