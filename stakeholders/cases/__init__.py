"""Follow-up cases, their escalation and the recovery pulse (issue 14, docs/follow-up.md)."""
