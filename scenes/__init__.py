"""optiscape rendering: matplotlib figures, scene specs, the gallery and the CLI."""
