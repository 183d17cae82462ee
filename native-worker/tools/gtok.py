"""Reader and writer for Grove token files (`.gtok`, version 1; layout in docs/token-file.md at the repo root).

A file is a header, n_examples+1 u64 offsets, n_tokens u32 ids and n_tokens u8 loss-mask bytes, all little-endian.
Writing goes to a temporary file that is renamed into place, so a failed write never leaves half a file behind.
"""
from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAGIC = b"GROVETOK"
VERSION = 1
_HEADER = struct.Struct("<8sIIQQ")


class TokenFileError(ValueError):
    """A token file (or the examples meant for one) breaks the format; the message names the problem."""


@dataclass(frozen=True)
class Example:
    tokens: np.ndarray  # uint32 [n]
    mask: np.ndarray  # uint8 [n], 1 = target token


def validate_example(tokens: Sequence[int], mask: Sequence[int], where: str) -> None:
    if len(tokens) != len(mask):
        raise TokenFileError(f"{where}: {len(tokens)} tokens but {len(mask)} mask values")
    if len(tokens) < 2:
        raise TokenFileError(f"{where}: an example needs at least 2 tokens, got {len(tokens)}")
    if any(m not in (0, 1) for m in mask):
        raise TokenFileError(f"{where}: mask values must be 0 or 1")
    if not any(mask[1:]):
        raise TokenFileError(f"{where}: no target token (mask is 0 after the first token)")
    if any(t < 0 or t > 0xFFFFFFFF for t in tokens):
        raise TokenFileError(f"{where}: token id outside u32")


def write_gtok(path: str, examples: Sequence[tuple[Sequence[int], Sequence[int]]]) -> None:
    """Writes (tokens, mask) pairs as a version-1 token file, atomically."""
    if not examples:
        raise TokenFileError(f"{path}: a token file needs at least one example")
    for i, (tokens, mask) in enumerate(examples):
        validate_example(tokens, mask, f"example {i}")
    lengths = [len(t) for t, _ in examples]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype("<u8")
    tokens = np.concatenate([np.asarray(t, dtype="<u4") for t, _ in examples])
    masks = np.concatenate([np.asarray(m, dtype="u1") for _, m in examples])
    header = _HEADER.pack(MAGIC, VERSION, 0, len(examples), int(offsets[-1]))
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".gtok-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(offsets.tobytes())
            f.write(tokens.tobytes())
            f.write(masks.tobytes())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_gtok(path: str) -> list[Example]:
    """Reads and fully validates a version-1 token file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < _HEADER.size:
        raise TokenFileError(f"{path}: {len(data)} bytes is shorter than the {_HEADER.size}-byte header")
    magic, version, flags, n_examples, n_tokens = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise TokenFileError(f"{path}: bad magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise TokenFileError(f"{path}: unsupported version {version}")
    if flags != 0:
        raise TokenFileError(f"{path}: reserved flags are {flags}, expected 0")
    if n_examples < 1:
        raise TokenFileError(f"{path}: n_examples is 0")
    expected = _HEADER.size + 8 * (n_examples + 1) + 5 * n_tokens
    if len(data) != expected:
        raise TokenFileError(f"{path}: size {len(data)} bytes, header implies {expected}")
    at = _HEADER.size
    offsets = np.frombuffer(data, dtype="<u8", count=n_examples + 1, offset=at)
    at += 8 * (n_examples + 1)
    tokens = np.frombuffer(data, dtype="<u4", count=n_tokens, offset=at)
    mask = np.frombuffer(data, dtype="u1", count=n_tokens, offset=at + 4 * n_tokens)
    if offsets[0] != 0 or offsets[-1] != n_tokens:
        raise TokenFileError(f"{path}: offsets must start at 0 and end at n_tokens={n_tokens}")
    if np.any(np.diff(offsets.astype(np.int64)) < 2):
        raise TokenFileError(f"{path}: offsets must grow by at least 2 tokens per example")
    if np.any(mask > 1):
        raise TokenFileError(f"{path}: mask values must be 0 or 1")
    return [
        Example(tokens=tokens[offsets[i] : offsets[i + 1]].copy(), mask=mask[offsets[i] : offsets[i + 1]].copy())
        for i in range(n_examples)
    ]
