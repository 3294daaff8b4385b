"""A real two-node Linux-HA Heartbeat lab for the test suite (root + Debian heartbeat packages)."""
