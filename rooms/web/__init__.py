"""Web pages and forms: Flask blueprints for accounts, rooms, records and uploads."""
