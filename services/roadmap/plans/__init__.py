"""Plans: a run's plan promoted, negotiated phase by phase, approved and locked."""
