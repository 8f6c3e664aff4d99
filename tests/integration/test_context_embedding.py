"""With context on, the model reads each passage after its file's name and headings, and the vector
key hashes exactly that text: the extraction worker (digests) and the meaning phase (what it embeds) agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seekwise.core.embedding import Encoder
from seekwise.core.library import Library
from seekwise.core.store import text_digest

GUIDE = "# Sourdough guide\n\n" + "\n\n".join(
    f"## Step {i}: {name}\n\n" + f"This part is about {name}. " * 40
    for i, name in enumerate(["feeding the starter", "mixing", "shaping", "baking"]))


def test_vectors_are_keyed_by_the_text_the_model_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bread.md").write_text(GUIDE, encoding="utf-8")
    (docs / "plain.txt").write_text("A plain note about the bicycle chain and its oil.", encoding="utf-8")
    asked: list[str] = []
    real = Encoder.embed_documents

    def recorded(encoder, texts):  # noqa: ANN001, ANN202
        asked.extend(texts)
        return real(encoder, texts)

    monkeypatch.setattr(Encoder, "embed_documents", recorded)
    with Library(tmp_path / "lib") as lib:
        lib.chunk_context = True   # before the first chunk: the chunker is made on first use
        lib.index([docs])
        chunker = lib.chunker.get()
        assert chunker.context
        records = {rec.path: rec for rec in lib.store.iter_files()}
        guide = lib.store.get_chunks(records[str(docs / "bread.md")].chunk_ids)
        assert len(guide) >= 4
        texts = chunker.embedding_texts(str(docs / "bread.md"), "markdown",
                                        [(c.start, c.end, c.text) for c in guide])
        assert [text_digest(chunker.version, t) for t in texts] == [c.digest for c in guide]
        assert set(texts) <= set(asked)
        baking = next(t for t, c in zip(texts, guide) if "about baking" in c.text and not c.text.startswith("#"))
        assert baking.startswith("docs/bread > Sourdough guide > Step 3: baking\n")
        assert "docs/plain\nA plain note about the bicycle chain and its oil." in asked
        stored = lib.store.get_vectors(lib.model_version, [c.digest for c in guide], lib.manifest.dims)
        again = real(lib.encoder.get(), texts)   # dynamic int8 scales by batch: equal to a cosine, not bits
        assert np.min(np.sum(stored * again, axis=1)) > 0.99
