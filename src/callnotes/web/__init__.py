"""callnotes.web: the local web app — FastAPI + Jinja + htmx pages and the JSON API under ``/api``.

Entry point: ``callnotes.web.app.create_app(settings)`` (import it from there: this package imports
nothing up front, so the CLI starts without loading FastAPI). The routes live in ``routes/``, one
module per page or area; they reach the database only through ``callnotes.store`` repository
functions, and the one place where errors become HTTP answers is ``errors.py``.
"""
