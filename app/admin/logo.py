"""An organisation's logo: whatever image an admin uploads is decoded, shrunk and stored as a small PNG, so that
nothing but pixels ever reaches a printed document (no metadata, no script, no oversized bitmap)."""
import io

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 400 * 1024  # a logo is a few kilobytes; this stays in memory while a request is read
ACCEPTED = {"PNG", "JPEG", "GIF", "WEBP"}
BOX = (600, 240)  # printed at most 60 × 24 mm: this is plenty


class LogoRefused(ValueError):
    """Not an image we accept; the message says why."""


def clean_logo(data: bytes) -> bytes:
    """The PNG to store for an uploaded image. :raise LogoRefused: too large, not an image, or another format."""
    if len(data) > MAX_BYTES:
        raise LogoRefused("too_large")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED:
                raise LogoRefused("format")
            if image.width * image.height > 40_000_000:  # a decompression bomb, not a logo
                raise LogoRefused("too_large")
            image.load()
            image = image.convert("RGBA")
            image.thumbnail(BOX)
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise LogoRefused("format") from error
    return out.getvalue()
