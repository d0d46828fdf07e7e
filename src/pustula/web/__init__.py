"""The web app: FastAPI pages and REST API over scoring, checks and the store."""

from pustula.web.app import create_app

__all__ = ["create_app"]
