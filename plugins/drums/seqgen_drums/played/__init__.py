"""Drums played by the groove models: humanizing drum scores (and ``generate --humanize``) with a groove model,
and Drumify, a drum groove to tapped rhythms. The models are loaded by name (``seqgen.load``)."""
