"""End-to-end runs of reference workflows in moto (no AWS account, no Docker)."""
