"""The embedding model: its manifest, where it is found, and the ONNX encoder."""

from seekwise.core.embedding.manifest import ModelManifest, load_manifest
from seekwise.core.embedding.resolve import DEFAULT_MODEL_ID, resolve_model
from seekwise.core.embedding.encoder import Encoder, TokenCounter

__all__ = ["DEFAULT_MODEL_ID", "Encoder", "TokenCounter", "ModelManifest", "load_manifest", "resolve_model"]
