"""callnotes.sync: moves data between the store and MSX (DESIGN.md §sync).

Modules: ``connection`` (which CRM, which token, connection status), ``importing`` (the account
import: msx read plan → store), ``mirror`` (writing an MSX snapshot into the store), ``summary``
(what an import did), ``jobs`` (the import as a queued job, followed and cancelled through the
store), ``queue`` (huey: SQLite or Redis), ``runtime`` (database + queue of one process), ``demo``
(the embedded emulator of demo mode), ``cli`` (its commands). Import from the modules: this package
imports nothing up front, so the CLI starts fast.
"""
