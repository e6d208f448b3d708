"""The voice of the customer: survey outcomes (CSAT, NPS, CES, eNPS) beside the QA scores, and whether
the checklist's items move what customers feel."""
