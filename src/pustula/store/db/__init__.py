"""The database itself: engine, tables, migrations and the unit of work every save runs in."""
