"""Helpers shared by the tests, imported as ``tests.helpers.<module>``: pytest.ini's ``pythonpath``
puts the repository root on the import path (``python -m`` from the root does too), and
``tests/`` itself is a namespace package (no ``__init__.py``):

    app           run.py's server in a thread, test images, a fake webcam, the browser helpers
    api           users, tokens and httpx clients of the JSON API
    web           the portal's forms through Flask's test client (register, login, post with CSRF)
    live_server   run.py's server with its production options, and a portal configuration
    gradio_proto  a client of Gradio's queue protocol (/app)

The constants every test uses are here, once.
"""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECRET = "s" * 8 + "0123456789abcdef" * 3  # the SECRET_KEY of every test configuration
PASSWORD = "Correct-Horse-42"  # every test user's password
TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                      r'type="hidden" name="csrf_token" value="([^"]+)"')  # a form's CSRF token
