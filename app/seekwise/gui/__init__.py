"""The desktop app (PySide6). Talks to the engine through seekwise.core.library and
seekwise.core.service only; core never imports this package."""
