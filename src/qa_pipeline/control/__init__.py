"""Human control: sampling calls for people, blind review sheets and their import, overrides, agreement
between the AI and controllers, the trust map, and the regression gate for checklist or model changes."""
