"""Static matplotlib figures: landscapes with paths and glyphs, loss curves, maps."""
