"""The int8 ONNX encoder against the fp32 PyTorch reference vectors stored beside the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- the chunker's token offsets -----------------------------------------------------------------

TRICKY = ["Café naïve façade, Ärger über Öl — “quoted” (x+y)/2=3.5e-7 … done.",
          "中文字符和日本語のテキスト mixed with Latin",
          "ab\x0ccd\x1fef\x85gh\u2028ij\xa0kl\u3000mn\u200bop \x00zero",
          "emoji 👩‍💻 and e\u0301 combining, 🇫🇷 flags",
          "x" * 300 + " " + "supercalifragilisticexpialidocious" * 5 + " https://example.org/a_b-c?d=e&f=g#h",
          "\n\n  leading and trailing space  \t\n", "", "   ", "one"]


def _reference(counter, text):
    return [start for start, _ in counter.tokenizer.encode(text, add_special_tokens=False).offsets]


def test_token_offsets_from_known_words_are_the_tokenizers_own(token_counter, monkeypatch):
    """Each distinct word is tokenized once and its offsets kept: the offsets of a text are exactly
    the tokenizer's, whether its words were known or not, and after the cache is emptied."""
    from seekwise.core.embedding import encoder as encoder_module

    corpus = Path(__file__).parents[1] / "data" / "corpus"
    texts = TRICKY + [p.read_text() for p in sorted(corpus.rglob("*")) if p.is_file()]
    for _ in range(2):  # cold, then every word known
        got = token_counter.token_starts(texts)
        assert [list(g) for g in got] == [_reference(token_counter, t) for t in texts]
    monkeypatch.setattr(encoder_module, "WORD_CACHE", 10)  # emptied on every call
    got = token_counter.token_starts(texts[::-1])
    assert [list(g) for g in got] == [_reference(token_counter, t) for t in texts[::-1]]


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=2000))
def test_token_offsets_of_any_text_are_the_tokenizers_own(token_counter, text):
    assert list(token_counter.token_starts([text])[0]) == _reference(token_counter, text)


def test_a_preloaded_model_is_taken_over_once_and_embeds_the_same(manifest, encoder):
    """A one-off search starts loading the model in a thread (encoder.preload) while it opens the
    library; the Encoder made then takes that session, and its vectors are those of any other."""
    from seekwise.core.embedding import Encoder
    from seekwise.core.embedding import encoder as encoder_module

    encoder_module.preload(manifest, threads=2)
    encoder_module.preload(manifest, threads=2)          # a second call starts nothing more
    (loading,) = encoder_module._PRELOADED.values()
    took = Encoder(manifest, threads=2)
    assert took._session is loading.result() and not encoder_module._PRELOADED
    texts = ["the deposit is returned at the end of the tenancy", "git rebase -i squashes commits"]
    assert np.array_equal(took.embed_documents(texts), encoder.embed_documents(texts))
    assert np.array_equal(took.embed_query(texts[0]), encoder.embed_query(texts[0]))
    other = Encoder(manifest, threads=2)                 # nothing preloaded: it loads its own
    assert other._session is not took._session


def test_a_preloaded_model_that_fails_fails_its_encoder_in_the_same_words(manifest, tmp_path, monkeypatch):
    import shutil

    from seekwise.core.embedding import Encoder, load_manifest
    from seekwise.core.embedding import encoder as encoder_module
    from seekwise.core.errors import ModelError

    shutil.copytree(manifest.folder, tmp_path / "m")
    with open(tmp_path / "m" / manifest.file, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\0" * 16)
    broken = load_manifest(tmp_path / "m")
    encoder_module.preload(broken, threads=1)
    with pytest.raises(ModelError, match="corrupt") as preloaded:
        Encoder(broken, threads=1)
    with pytest.raises(ModelError, match="corrupt") as loaded_here:
        Encoder(broken, threads=1)
    assert str(preloaded.value) == str(loaded_here.value) and not encoder_module._PRELOADED


def test_the_pool_threads_do_not_spin_after_a_run(encoder):
    """Spinning ORT threads took the core the rest of a search needed (73 -> 47 ms of CPU a search)."""
    options = encoder._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.intra_op_num_threads == 2


def test_ctrl_c_while_onnxruntime_starts_is_an_interrupt_not_an_error(manifest, monkeypatch):
    """A SIGINT that lands inside the extension's start surfaces as ImportError('initialization
    failed') caused by KeyboardInterrupt: `seekwise index` must say 'interrupted', not 'unexpected'."""
    import builtins

    from seekwise.core.embedding.encoder import load_session

    real_import = builtins.__import__

    def cut_short(name, *args, **kwargs):  # noqa: ANN001, ANN202
        if name == "onnxruntime":
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as stop:
                raise ImportError("initialization failed") from stop
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", cut_short)
    with pytest.raises(KeyboardInterrupt):
        load_session(manifest, 1, verify=False)
