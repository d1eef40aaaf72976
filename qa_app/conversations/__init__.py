"""Importing support conversations: records, file-format parsers and PII redaction (no database)."""
