"""Project photos: check an upload by its content, re-encode it as a clean JPEG, make a thumbnail.

Pure: bytes in, bytes out. Re-encoding drops EXIF (location, camera) and anything hidden in the
file; only JPEG and PNG are accepted, whatever the file name says.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from deltager.errors import N_, ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # larger images are refused before they are decoded (decompression bombs)
MAX_SIDE = 1600
THUMB_SIDE = 400
ACCEPTED = {"JPEG", "PNG"}


@dataclass(frozen=True)
class ProcessedPhoto:
    """The re-encoded photo and its thumbnail (both JPEG)."""

    content: bytes
    thumbnail: bytes
    width: int
    height: int


def _refuse() -> ValidationFailed:
    return ValidationFailed(N_("The photo could not be read. Choose a JPEG or PNG picture."), field="photo")


def _too_many_pixels() -> ValidationFailed:
    return ValidationFailed(N_("The photo has too many pixels. Choose a smaller picture."), field="photo")


def process(data: bytes) -> ProcessedPhoto:
    """Validate and re-encode an uploaded photo; ValidationFailed (field "photo") if it is not acceptable."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed(N_("The photo is too large. It can be at most 5 MB."), field="photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ACCEPTED:
                    raise _refuse()
                width, height = image.size
                if width * height > MAX_PIXELS or width < 1 or height < 1:
                    raise _too_many_pixels()
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                rgb = upright.convert("RGB")
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels() from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise _refuse() from error
    # A fresh image carries no metadata at all.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    clean.thumbnail((MAX_SIDE, MAX_SIDE))
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return ProcessedPhoto(_jpeg(clean, 85), _jpeg(thumb, 80), clean.width, clean.height)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
