"""edge-mnist."""
