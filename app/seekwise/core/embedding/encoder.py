"""Text to unit vectors with ONNX Runtime, in length-sorted batches; ORT releases the GIL while it works."""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from seekwise.core.embedding.manifest import ModelManifest, verify_files
from seekwise.core.errors import ModelError

log = logging.getLogger(__name__)

BATCH_TOKENS = 2048  # padded tokens per model call: measured fastest on 2 cores (73/s at 8192, 86/s here)
MAX_BATCH = 64
QUERY_CACHE_SIZE = 512


class Encoder:
    """One loaded model. Counts its work so tests can prove what was (not) embedded."""

    def __init__(self, manifest: ModelManifest, threads: int | None = None, verify: bool = True,
                 record: Path | None = None) -> None:
        self.manifest = manifest
        self.threads = threads or os.cpu_count() or 1
        preloaded = _take_preloaded(manifest, self.threads)
        if preloaded is not None and verify:
            self._session = preloaded.result()   # its ModelError, if it failed: what loading here would raise
        else:
            self._session = load_session(manifest, self.threads, verify, record)
        self.tokenizer = load_tokenizer(manifest)
        self._inputs = {i.name for i in self._session.get_inputs()}
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = manifest.output if manifest.output in outputs else outputs[0]
        self._pad_id = self.tokenizer.token_to_id("[PAD]") or 0
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.texts_embedded = 0
        self.model_calls = 0

    @property
    def dims(self) -> int:
        return self.manifest.dims

    @property
    def version_id(self) -> str:
        return self.manifest.version_id

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for chunks; a chunk longer than the model takes is a bug upstream, never cut quietly."""
        prefixed = [self.manifest.document_prefix + t for t in texts]
        encodings = self.tokenizer.encode_batch(prefixed)
        too_long = [i for i, e in enumerate(encodings) if len(e.ids) > self.manifest.max_tokens]
        if too_long:
            raise ValueError(f"{len(too_long)} text(s) exceed {self.manifest.max_tokens} tokens; "
                             "the chunker must split them")
        return self._run([e.ids for e in encodings])

    def embed_query(self, text: str) -> np.ndarray:
        """A query's vector, from a small LRU cache when the same query comes again (typing, paging)."""
        with self._cache_lock:
            hit = self._query_cache.get(text)
            if hit is not None:
                self._query_cache.move_to_end(text)
                return hit
        ids = self.tokenizer.encode(self.manifest.query_prefix + text).ids
        if len(ids) > self.manifest.max_tokens:
            log.warning("query of %d tokens cut to the model's %d", len(ids), self.manifest.max_tokens)
            ids = ids[: self.manifest.max_tokens - 1] + ids[-1:]
        vec = self._run([ids])[0]
        vec.setflags(write=False)
        with self._cache_lock:
            self._query_cache[text] = vec
            if len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return vec

    def _run(self, id_lists: list[list[int]]) -> np.ndarray:
        out = np.empty((len(id_lists), self.dims), dtype=np.float32)
        order = sorted(range(len(id_lists)), key=lambda i: len(id_lists[i]))
        start = 0
        while start < len(order):
            longest = len(id_lists[order[start]])
            end = start + 1
            while end < len(order) and end - start < MAX_BATCH:
                longest = len(id_lists[order[end]])
                if longest * (end - start + 1) > BATCH_TOKENS:
                    break
                end += 1
            batch = order[start:end]
            out[batch] = self._run_batch([id_lists[i] for i in batch])
            start = end
        self.texts_embedded += len(id_lists)
        return out

    def _run_batch(self, id_lists: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in id_lists)
        input_ids = np.full((len(id_lists), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(id_lists), width), dtype=np.int64)
        for row, ids in enumerate(id_lists):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        hidden = self._session.run([self._output], feed)[0]
        self.model_calls += 1
        return self._pool(hidden, mask)

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        pooling = self.manifest.pooling
        if pooling == "none":
            vecs = hidden
        elif pooling == "cls":
            vecs = hidden[:, 0]
        elif pooling == "last":
            vecs = hidden[np.arange(len(hidden)), mask.sum(axis=1) - 1]
        else:
            weights = mask[..., None].astype(np.float32)
            vecs = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        vecs = np.ascontiguousarray(vecs[:, : self.dims], dtype=np.float32)
        if self.manifest.normalize:
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return vecs


def load_session(manifest: ModelManifest, threads: int, verify: bool = True,  # noqa: ANN201 - ort.InferenceSession
                 record: Path | None = None):
    """The model's ONNX Runtime session, its files checked first (verify_files: hashed once, then
    remembered in `record` while they stay the same)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):   # Ctrl+C while its extension started: an
            raise KeyboardInterrupt from None               # interrupt, not a broken install
        raise

    _no_telemetry(ort)
    if verify:
        verify_files(manifest, record)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # No arena: it kept ~110 MB between batches for good (power-of-two growth); plain malloc is as
    # fast here (batches alternating in one process: 0.97-1.00x the time) and the indexer trims the
    # heap after each batch, so a run's HNSW and the model's buffers are never resident together.
    opts.enable_cpu_mem_arena = False
    # ORT's pool threads otherwise spin after each run, on the core the Python work that follows
    # (the rest of a search, the next batch's padding) wants: a search's CPU fell 73 -> 47 ms and
    # embedding went 17 -> 22 chunks/s on 2 busy cores without it; the vectors are the same.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(manifest.model_path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own untyped errors
        raise ModelError(f"Cannot load model '{manifest.id}' from {manifest.folder}: {exc}") from exc


class _Loading:
    """A session being built in another thread: result() waits for it, or raises what stopped it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.session = None
        self.error: BaseException | None = None

    def result(self):  # noqa: ANN201 - ort.InferenceSession
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.session


_PRELOADED: dict[tuple[str, str, int], _Loading] = {}
_PRELOADED_LOCK = threading.Lock()


def _preload_key(manifest: ModelManifest, threads: int) -> tuple[str, str, int]:
    return (os.path.realpath(manifest.model_path), manifest.sha256, threads)


def preload(manifest: ModelManifest, threads: int | None = None, record: Path | None = None) -> None:
    """Start loading the model (and its tokenizer) in a thread, for the Encoder(manifest, threads)
    about to be made: ONNX Runtime builds a session (100-250 ms) without holding the GIL, so a
    one-off `seekwise search` imports and opens the rest of the library meanwhile. That Encoder
    takes the session over (once); nothing else keeps it. For a process that makes one encoder."""
    threads = threads or os.cpu_count() or 1
    key = _preload_key(manifest, threads)
    with _PRELOADED_LOCK:
        if key in _PRELOADED:
            return
        loading = _PRELOADED[key] = _Loading()

    def load() -> None:   # not a daemon: an early exit waits for ORT to finish rather than exit under it
        try:
            loading.session = load_session(manifest, threads, record=record)
        except Exception as exc:  # noqa: BLE001 - handed to the Encoder, which raises it
            loading.error = exc
        finally:
            loading.done.set()
        if loading.error is None:
            try:
                load_tokenizer(manifest)          # into the shared cache the Encoder reads
            except ModelError:
                pass                              # the Encoder loads it again and says why
    threading.Thread(target=load, name="seekwise-model-preload").start()


def _take_preloaded(manifest: ModelManifest, threads: int) -> _Loading | None:
    with _PRELOADED_LOCK:
        return _PRELOADED.pop(_preload_key(manifest, threads), None)


def _no_telemetry(ort) -> None:  # noqa: ANN001 - the onnxruntime module
    """A belt to seekwise/__init__.py's ORT_DISABLE_TELEMETRY, for a host that imported onnxruntime
    before seekwise (then the variable came too late): turn its telemetry events off anyway."""
    disable = getattr(ort, "disable_telemetry_events", None)
    if disable is not None:
        disable()


_TOKENIZERS: dict[tuple[str, int, int], object] = {}
_TOKENIZERS_LOCK = threading.Lock()


def load_tokenizer(manifest: ModelManifest):  # noqa: ANN201 - tokenizers.Tokenizer
    """The model's tokenizer alone (fast): enough to chunk without loading the network.

    One per tokenizer file and process: parsing tokenizer.json holds the GIL for tens of ms (a stall
    of the GUI's event loop each time), and the chunker, the search encoder and the indexer's encoder
    all want it. Shared safely: it is configured here once and only encoded with afterwards."""
    from tokenizers import Tokenizer

    path = str(manifest.tokenizer_path)
    try:
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    with _TOKENIZERS_LOCK:
        if key is not None and key in _TOKENIZERS:
            return _TOKENIZERS[key]
        try:
            tok = Tokenizer.from_file(path)
        except Exception as exc:  # tokenizers raises untyped errors
            raise ModelError(f"Cannot load the tokenizer of model '{manifest.id}' "
                             f"({manifest.tokenizer_path}): {exc}") from exc
        tok.no_truncation()
        tok.no_padding()
        if key is not None:
            _TOKENIZERS[key] = tok
        return tok


class TokenCounter:
    """Counts content tokens the way the encoder will see them, for the chunker."""

    def __init__(self, manifest: ModelManifest) -> None:
        self.tokenizer = load_tokenizer(manifest)
        specials = len(self.tokenizer.encode("").ids)
        prefix = manifest.document_prefix
        prefix_tokens = len(self.tokenizer.encode(prefix, add_special_tokens=False).ids) if prefix else 0
        self.budget = manifest.max_tokens - specials - prefix_tokens
        self.tag = (manifest.tokenizer_sha256 or manifest.id)[:12]
        self._words: dict[str, tuple[int, ...]] = {}  # word -> char offsets of its tokens in it

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_words": {}}  # an extraction worker builds its own

    def __call__(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def token_starts(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Char offsets where each content token of each text starts (see starts_in)."""
        flat, counts = self._starts(((text, 0) for text in texts))
        return np.split(flat, np.cumsum(counts)[:-1]) if len(counts) else []

    def starts_in(self, text: str, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """Char offsets in `text` where each content token of the spans starts, span after span: what
        the chunker bisects to count a span's tokens. The same as token_starts over text[a:b] plus a,
        joined, with the per-word work done once for all the spans rather than span by span.

        A token never crosses a space, tab or line break, and the tokenizer reads each word between
        them on its own (it normalizes a char at a time, then splits at every space), so a word's
        offsets are the same wherever it stands: each distinct word is tokenized once and kept (text
        is mostly words seen before: 4x less work than tokenizing it all). A run of more than
        PIECE_CHARS without a space is cut into pieces, a mid-word cut the chunker checks later.
        """
        return self._starts(((text[a:b], a) for a, b in spans))[0]

    def _starts(self, parts: Iterable[tuple[str, int]]) -> tuple[np.ndarray, list[int]]:
        """(token start offsets, each part's base added, end to end; the number of words per part)."""
        words: list[str] = []
        offsets: list[int] = []
        per_part: list[int] = []
        split = _SEPARATORS.split
        for part, base in parts:
            pieces = split(part)
            ends = list(itertools.accumulate(map(len, pieces), initial=base))
            these, at = pieces[::2], ends[0::2]
            if max(map(len, these)) > PIECE_CHARS:
                these, at = _cut_long(these, at)
            words += these
            offsets += at
            per_part.append(len(these))
        known = self._words
        if len(known) > WORD_CACHE:
            known.clear()
        missing = list(set(words).difference(known))
        self._learn(missing)
        inner = list(map(known.__getitem__, words))
        counts = np.fromiter(map(len, inner), dtype=np.int64, count=len(inner))
        flat = np.fromiter(itertools.chain.from_iterable(inner), dtype=np.int64, count=int(counts.sum()))
        for word in missing:
            if len(word) > CACHED_WORD_CHARS:  # a long word is seldom seen twice: not worth its memory
                del known[word]
        starts = np.repeat(np.asarray(offsets, dtype=np.int64), counts) + flat
        tokens_per_part = np.add.reduceat(counts, np.cumsum([0, *per_part[:-1]])) if per_part and len(counts) else []
        return starts, [int(n) for n in tokens_per_part]

    def _learn(self, words: list[str]) -> None:
        """Token offsets of new words, tokenized as lines of words joined by spaces (a call per word
        costs the tokenizer eight times as much)."""
        lines: list[list[str]] = [[]]
        size = 0
        for word in words:
            if size + len(word) > PIECE_CHARS and lines[-1]:
                lines.append([])
                size = 0
            lines[-1].append(word)
            size += len(word) + 1
        texts = [" ".join(line) for line in lines if line]
        for line, text, enc in zip(lines, texts, self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            begins = np.fromiter(itertools.accumulate((len(w) + 1 for w in line), initial=0), dtype=np.int64,
                                 count=len(line) + 1)[:-1]
            starts = np.fromiter((start for start, _ in enc.offsets), dtype=np.int64, count=len(enc.offsets))
            owner = np.searchsorted(begins, starts, side="right") - 1
            bounds = np.searchsorted(owner, np.arange(len(line) + 1))
            inner = (starts - begins[owner]).tolist()
            for i, word in enumerate(line):
                self._words[word] = tuple(inner[bounds[i]:bounds[i + 1]])


PIECE_CHARS = 4096
WORD_CACHE = 1 << 17       # distinct words a counter keeps (about 20 MB), emptied when full
CACHED_WORD_CHARS = 64
_SEPARATORS = re.compile(r"([ \t\n\r]+)")


def _cut_long(words: list[str], offsets: list[int]) -> tuple[list[str], list[int]]:
    cut_words: list[str] = []
    cut_offsets: list[int] = []
    for word, offset in zip(words, offsets):
        for start in range(0, max(len(word), 1), PIECE_CHARS):
            cut_words.append(word[start:start + PIECE_CHARS])
            cut_offsets.append(offset + start)
    return cut_words, cut_offsets
