"""The workspace server: FastAPI over the same store and checklists as the command line.

Errors from the library become status codes here and nowhere else: a call or dispute the user may not see
is a 404 (as if it did not exist), an action their role may not take a 403, bad input a 400 naming the
problem; a page asked for without a session redirects to the sign-in page, an API route answers 401."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from qa_pipeline.checklist import load_checklists
from qa_pipeline.errors import ConfigError
from qa_pipeline.server import api, pages
from qa_pipeline.server.context import ServerState, SignInNeeded, page_user
from qa_pipeline.server.rendering import SECURITY_HEADERS, render
from qa_pipeline.server.security import LoginLimiter
from qa_pipeline.server.settings import ServerSettings
from qa_pipeline.store.database import Store
from qa_pipeline.team.access import NotAllowed, NotVisible
from qa_pipeline.voc.review import voc_checklists
from qa_pipeline.voc.taxonomy import load_taxonomy, shipped_taxonomies

STATIC = Path(__file__).parent / "static"


def create_app(settings: ServerSettings) -> FastAPI:
    app = FastAPI(
        title="qa-pipeline workspace",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN; the schema itself is served
        redoc_url=None,
    )
    app.state.workspace = ServerState(
        store=Store(settings.store),
        checklists={c.id: c for c in load_checklists(settings.checklists)}
        | voc_checklists([load_taxonomy(p) for p in settings.taxonomies] or shipped_taxonomies()),
        limiter=LoginLimiter(settings.max_login_failures, settings.login_window_seconds),
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="qa_session",
        max_age=int(settings.session_hours * 3600),
        same_site="strict",
        https_only=settings.secure_cookies,
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_error_pages(app)
    return app


def _add_error_pages(app: FastAPI) -> None:
    def reply(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=status, headers=SECURITY_HEADERS)
        try:
            user = page_user(request)
        except SignInNeeded:
            user = None
        return render(request, "error.html.j2", user, status, status=status, message=message)

    @app.exception_handler(SignInNeeded)
    def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)

    @app.exception_handler(NotVisible)
    def _not_visible(request: Request, exc: NotVisible) -> Response:
        return reply(request, 404, str(exc))

    @app.exception_handler(NotAllowed)
    def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        return reply(request, 403, str(exc))

    @app.exception_handler(ConfigError)
    def _bad_input(request: Request, exc: ConfigError) -> Response:
        return reply(request, 400, str(exc))

    @app.exception_handler(HTTPException)
    def _http(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": exc.detail}, exc.status_code, headers={**SECURITY_HEADERS, **(exc.headers or {})}
            )
        return reply(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return reply(request, 422, problems)
