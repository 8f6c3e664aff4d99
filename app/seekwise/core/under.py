"""Whether a path lies in a folder, spelt once: a bare prefix test would put /a/bc under /a/b."""

from __future__ import annotations

import os


def is_under(path: str, folder: str) -> bool:
    """`path` is `folder` itself or inside it; `folder` may end with a separator (the root "/" does)."""
    prefix = folder if folder.endswith(os.sep) else folder + os.sep
    return path.startswith(prefix) or path + os.sep == prefix
