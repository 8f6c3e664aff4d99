"""Seekwise: find your own files by meaning."""

import os

# Nothing leaves the machine. ONNX Runtime (1.32 on Linux) starts its telemetry when it is first
# imported: a device id and an event database under ~/.cache/Microsoft, uploads to
# mobile.events.data.microsoft.com. Only this variable, set before that import, stops it
# (disable_telemetry_events() comes too late). Every entry point and every spawned worker imports
# this package before onnxruntime, and the programs we start inherit it. Forced, not a default.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"
