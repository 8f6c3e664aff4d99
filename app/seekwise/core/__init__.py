"""The engine: pure Python and numpy, never Qt."""
