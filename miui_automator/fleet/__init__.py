"""Many phones at once: the inventory (``devices.yaml``), the parallel runner with its per-phone timeout, the SQLite
ledger that lets a killed run resume, station (watch) mode, the live view and the fleet report."""
