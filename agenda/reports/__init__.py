"""The agenda report: scheduled, built once as a stored snapshot, e-mailed through the outbox."""
