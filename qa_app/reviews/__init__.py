"""Reviews: assignments, scoring a conversation, acknowledgement, disputes and the audit trail."""
