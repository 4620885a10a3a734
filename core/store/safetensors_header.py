"""The header of a safetensors file (its tensors' names, shapes and offsets, and the metadata), read and checked
without the tensors. Standard library only: ``zoo runs`` reads the step a checkpoint holds without torch."""

from __future__ import annotations

import json
import os
from pathlib import Path

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


def read_header(path: Path) -> dict:
    """The safetensors header of ``path``, read and checked before any tensor is: a lying length or offsets
    past the end of the file are refused without reading (or allocating) the rest."""
    with open(path, "rb") as fh:
        size_bytes = fh.read(8)
        total = os.fstat(fh.fileno()).st_size
        if len(size_bytes) < 8:
            raise ValueError("file too short")
        size = int.from_bytes(size_bytes, "little")
        if not 0 < size <= min(MAX_HEADER_BYTES, total - 8):
            raise ValueError("header length out of range")
        header = json.loads(fh.read(size))
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = (entry.get("data_offsets") or [None, None]) if isinstance(entry, dict) else (None, None)
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= total - 8 - size):
            raise ValueError(f"tensor '{name}' lies outside the file")
    return header
