"""The int8 ONNX encoder against the fp32 PyTorch reference vectors stored beside the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).parents[1] / "data" / "reference_vectors.json"


def load_reference():
    data = json.loads(REFERENCE.read_text())
    return data["sentences"], np.asarray(data["vectors"], dtype=np.float32)


def test_matches_fp32_reference(encoder):
    sentences, ref = load_reference()
    got = encoder.embed_documents(sentences)
    cos = np.sum(got * ref, axis=1) / np.linalg.norm(ref, axis=1)
    assert got.shape == ref.shape
    assert cos.min() > 0.97 and cos.mean() > 0.985, cos


def test_unit_length_and_batch_independent(encoder):
    sentences, _ = load_reference()
    together = encoder.embed_documents(sentences)
    alone = np.stack([encoder.embed_documents([s])[0] for s in sentences])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Dynamic int8 scales activations per batch, so batch-mates move a vector about as much as
    # quantization itself does (both ~0.99 cosine to fp32); more than that would mean padding leaks in.
    assert np.sum(together * alone, axis=1).min() > 0.98


def test_meaning_beats_wording(encoder):
    q = encoder.embed_query("how do I get my deposit back")
    docs = encoder.embed_documents(["The landlord shall return the security bond within ten days.",
                                    "Preheat the oven and bake the bread for twenty minutes."])
    assert docs[0] @ q > docs[1] @ q + 0.2


def test_query_cache_skips_the_model(encoder):
    encoder.embed_query("a query typed twice")
    calls = encoder.model_calls
    again = encoder.embed_query("a query typed twice")
    assert encoder.model_calls == calls and not again.flags.writeable


def test_too_long_document_is_refused_not_cut(encoder):
    with pytest.raises(ValueError, match="chunker"):
        encoder.embed_documents(["word " * 1000])
