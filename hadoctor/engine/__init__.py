"""The rule engine: discovery, running rules over snapshots, findings."""
