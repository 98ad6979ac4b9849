"""The figures: every number pmo5p shows about a PMO's stakeholders, computed here once (docs/figures.md)."""
