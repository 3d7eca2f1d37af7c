"""What a study publishes, drawn from its published tables: the charts (:mod:`.charts`)."""
