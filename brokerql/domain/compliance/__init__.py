"""Compliance rules checked when an order is admitted: suitability (适当性) and board eligibility."""
