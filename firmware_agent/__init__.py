"""The box daemon: config, the offline store, the domain (modes, catalog, journal) and the core loop."""
