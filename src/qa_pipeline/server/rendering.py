"""Templates of the workspace, beside the report's: the same filters and words for numbers and clocks."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from qa_pipeline.models import User
from qa_pipeline.report.render import add_filters
from qa_pipeline.server.security import CSRF_FIELD, csrf_token
from qa_pipeline.server.texts import workspace_text

_ENV = Environment(
    loader=ChoiceLoader(
        [PackageLoader("qa_pipeline.server", "templates"), PackageLoader("qa_pipeline.report", "templates")]
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
add_filters(_ENV)


def render(
    request: Request, template: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    language = user.language if user else _browser_language(request)
    html = _ENV.get_template(template).render(
        user=user,
        t=workspace_text(language),
        language=language,
        csrf=csrf_token(request),
        csrf_field=CSRF_FIELD,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def _browser_language(request: Request) -> str:
    return "ru" if request.headers.get("accept-language", "").lower().startswith("ru") else "en"


# Pages load nothing from elsewhere (works offline), are never framed, and are not cached where a shared
# machine's next user could read them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; media-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
