"""The PMO's self-assessment per P and each stakeholder's relationship maturity."""
