"""Demo tooling: seed a demo vendor, simulate traffic (used by `tcma demo`, never by the app)."""
