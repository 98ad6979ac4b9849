"""The Relationship Marketing Agenda: actions, incidents and the suggestions they can come from."""
