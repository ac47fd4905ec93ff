"""Web pages and forms: Flask blueprints for accounts, rooms, records and uploads."""
from flask import current_app


def services():
    """The app's services (rooms/playroom.py Playroom) for the request being served."""
    return current_app.extensions["playroom"]
