"""The app's settings, as every view reads them (built once by portal/config.py, kept on the app by the factory)."""
from __future__ import annotations

from flask import current_app

from portal.config import Config
from portal.museum.settings import MuseumSettings


def portal_config() -> Config:
    return current_app.config["PORTAL"]


def museum_settings() -> MuseumSettings:
    return current_app.config["MUSEUM"]
