"""What the workspace server needs to start: the store, the checklists and the key that signs sessions."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.errors import ConfigError

SECRET_ENV = "QA_PIPELINE_SECRET"


class ServerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    store: str = Field(description="SQLite file or SQLAlchemy URL of the project store")
    checklists: list[Path] = Field(description="checklist files or folders")
    taxonomies: list[Path] = Field(
        default_factory=list,
        description="contact-reason taxonomies whose VoC fields people review; default the shipped ones",
    )
    secret_key: str = Field(min_length=32, repr=False, description="signs the session cookies")
    secure_cookies: bool = Field(
        default=False, description="send cookies over HTTPS only (set it behind a TLS proxy)"
    )
    session_hours: float = Field(default=10.0, gt=0, le=24 * 7)
    max_login_failures: int = Field(default=5, ge=1, description="per name or address in the window")
    login_window_seconds: float = Field(default=900.0, gt=0)


def secret_key(folder: Path) -> str:
    """$QA_PIPELINE_SECRET, else a key kept in the work folder (made on first start, readable by its owner
    only), so sessions survive a restart and several server processes on one folder agree."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = folder / "server-secret"
    try:
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot keep the session key there ({exc}); set ${SECRET_ENV}") from exc
