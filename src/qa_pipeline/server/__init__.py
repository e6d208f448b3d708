"""The QA team's workspace in a browser (`qa-pipeline serve`): a thin layer over `qa_pipeline.team`."""

from qa_pipeline.server.app import create_app
from qa_pipeline.server.settings import ServerSettings, secret_key

__all__ = ["ServerSettings", "create_app", "secret_key"]
