"""The engine's SQLite store: schema migrations and typed tables of model objects."""

from appliance.engine.store.database import Database
from appliance.engine.store.tables import Table

__all__ = ["Database", "Table"]
