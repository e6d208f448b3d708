"""The supervisor's HTML report: one self-contained file built from the project store.

`data` gathers the numbers (pydantic models, testable without a browser), `charts` draws them as inline
SVG, `text` holds the interface wording in English and Russian, `render` fills the jinja2 template with
autoescaping on, so transcript and checklist text can never become markup; `exports` writes the same
store as tables (CSV, JSON lines, Parquet) for other tools.
"""

from qa_pipeline.report.render import write_html_report

__all__ = ["write_html_report"]
