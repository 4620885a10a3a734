"""One image file to 8-bit pixels: opened lazily, refused in one line when unreadable or a decompression bomb,
16-bit grey scaled (not clipped) to 8 bits, and optionally cropped to its centred square."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.errors import DataError

# Pillow's modes for 16-bit grey ("I" holds 32-bit integers, read as 16-bit: what 16-bit PNGs and TIFFs give)
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
GREY_MODES = ("1", "L", "LA", *SIXTEEN_BIT_MODES)


def open_image(f: Path):
    """The image at ``f``, its header read (pixels are decoded on first use)."""
    from PIL import Image

    try:
        return Image.open(f)
    except Image.DecompressionBombError:
        raise DataError(f"{f}: its header claims more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels; refused as a "
                        f"possible decompression bomb") from None
    except Exception as exc:
        raise DataError(f"{f}: not a readable image ({type(exc).__name__})") from None


def eight_bit(picture, mode: str):
    """``picture`` in Pillow mode ``mode`` ("L" or "RGB"); 16-bit grey is scaled, 0..65535 onto 0..255."""
    from PIL import Image

    if picture.mode in SIXTEEN_BIT_MODES:
        wide = np.clip(np.asarray(picture).astype(np.int64), 0, 65535)
        picture = Image.fromarray(((wide * 255 + 32767) // 65535).astype(np.uint8), "L")
    return picture.convert(mode)


def centre_square(picture, side: int):
    """The centred square of ``picture``, resized to ``side`` x ``side`` with the Lanczos filter."""
    from PIL import Image

    width, height = picture.size
    edge = min(width, height)
    left, top = (width - edge) // 2, (height - edge) // 2
    return picture.crop((left, top, left + edge, top + edge)).resize((side, side), Image.Resampling.LANCZOS)
