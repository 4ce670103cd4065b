"""What an uploaded file really is, what to call it, how to serve it, and its thumbnail.

A document store is the easiest way to turn a CRM into a malware host or an XSS vector: an
"invoice.pdf" that is really HTML, served inline from our origin, runs script with the user's
session. So the type is decided from the bytes only (the name and the browser-declared type are
attacker-controlled), only a short allow-list is ever served inline, executables and server-side
scripts are refused outright, and user-supplied names are cleaned before they reach the database
or a Content-Disposition header.
"""
from __future__ import annotations

import codecs
import io
import re
import struct
import unicodedata
import warnings
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

from PIL import Image, ImageOps

HEAD_SIZE = 8192  # how many leading bytes sniff() looks at; callers read this much
MAX_NAME = 255  # characters, not bytes: the name is display text, never a storage key

OCTET = "application/octet-stream"
INLINE_TYPES: frozenset[str] = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"})
IMAGE_TYPES: frozenset[str] = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
THUMBNAIL_TYPE = "image/webp"  # what thumbnail() makes


@dataclass(frozen=True)
class Sniffed:
    """What the bytes are (mime), how to call them (label), whether we store them, and how we serve them."""

    mime: str
    label: str
    refused: bool
    served_type: str


def _make(mime: str, label: str, refused: bool = False) -> Sniffed:
    """Derive served_type in one place so no code path can serve a non-allow-listed type inline."""
    if refused or mime not in INLINE_TYPES:
        served = OCTET
    elif mime == "text/plain":
        served = "text/plain; charset=utf-8"
    else:
        served = mime
    return Sniffed(mime=mime, label=label, refused=refused, served_type=served)


# --- Refused content: programs and anything a misconfigured server could execute -------------------

_EXECUTABLES: tuple[tuple[bytes, str, str], ...] = (
    (b"MZ", "application/x-msdownload", "Windows program"),
    (b"\x7fELF", "application/x-executable", "Program"),
    (b"\xfe\xed\xfa\xce", "application/x-mach-binary", "Mac program"),
    (b"\xfe\xed\xfa\xcf", "application/x-mach-binary", "Mac program"),
    (b"\xce\xfa\xed\xfe", "application/x-mach-binary", "Mac program"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary", "Mac program"),
    (b"\xbe\xba\xfe\xca", "application/x-mach-binary", "Mac program"),  # fat binary, little-endian
    (b"\xca\xfe\xba\xbf", "application/x-mach-binary", "Mac program"),  # fat binary, 64-bit
    (b"\xbf\xba\xfe\xca", "application/x-mach-binary", "Mac program"),
    (b"#!", "text/x-script", "Script"),
)
_PHP_SCAN = 4096


def _refused(head: bytes) -> Sniffed | None:
    for magic, mime, label in _EXECUTABLES:
        if head.startswith(magic):
            return _make(mime, label, refused=True)
    if head.startswith(b"\xca\xfe\xba\xbe"):
        # Shared by Java classes (then a version >= 45 follows) and fat Mach-O (then a small arch count): refuse both.
        java = len(head) >= 8 and struct.unpack(">I", head[4:8])[0] >= 45
        return _make("application/java-vm", "Java class", refused=True) if java else _make("application/x-mach-binary", "Mac program", True)
    lower = head.lower()
    # PHP runs wherever "<?php" appears, even after a valid image header (the classic GIF89a polyglot).
    if b"<?php" in lower[:_PHP_SCAN] or b"<?=" in lower[:_PHP_SCAN]:
        return _make("application/x-php", "PHP script", refused=True)
    if b"__halt_compiler" in lower:  # PHP function names are case-insensitive
        return _make("application/x-phar", "PHP archive", refused=True)
    return None


# --- Binary formats, by magic number ------------------------------------------------------------

_MAGIC: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"%PDF-", "application/pdf", "PDF"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png", "PNG image"),
    (0, b"\xff\xd8\xff", "image/jpeg", "JPEG image"),
    (0, b"GIF87a", "image/gif", "GIF image"),
    (0, b"GIF89a", "image/gif", "GIF image"),
    (0, b"II*\x00", "image/tiff", "TIFF image"),
    (0, b"MM\x00*", "image/tiff", "TIFF image"),
    (0, b"II+\x00", "image/tiff", "TIFF image"),  # BigTIFF
    (0, b"MM\x00+", "image/tiff", "TIFF image"),
    (0, b"ID3", "audio/mpeg", "Audio"),
    (0, b"OggS", "audio/ogg", "Audio"),
    (0, b"fLaC", "audio/flac", "Audio"),
    (0, b"PK\x03\x04", "application/zip", "Archive"),
    (0, b"PK\x05\x06", "application/zip", "Archive"),  # empty archive
    (0, b"PK\x07\x08", "application/zip", "Archive"),  # spanned archive
    (0, b"\x1f\x8b", "application/gzip", "Archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", "Archive"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar", "Archive"),
    (0, b"\xfd7zXZ\x00", "application/x-xz", "Archive"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", "Office document"),
    (0, b"{\\rtf", "application/rtf", "Rich text document"),
    (257, b"ustar", "application/x-tar", "Archive"),
)
_RIFF = {b"WEBP": ("image/webp", "WebP image"), b"WAVE": ("audio/wav", "Audio"), b"AVI ": ("video/x-msvideo", "Video")}
_FTYP = {
    **dict.fromkeys((b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"), ("image/heic", "HEIC image")),
    **dict.fromkeys((b"mif1", b"msf1"), ("image/heif", "HEIF image")),
    **dict.fromkeys((b"avif", b"avis"), ("image/avif", "AVIF image")),
    **dict.fromkeys((b"M4A ", b"M4B "), ("audio/mp4", "Audio")),
    **dict.fromkeys((b"3gp4", b"3gp5", b"3gp6", b"3g2a"), ("video/3gpp", "Video")),
    b"qt  ": ("video/quicktime", "Video"),
}
_BZIP2 = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")
_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}


def _ftyp(head: bytes) -> tuple[str, str]:
    """ISO base media (MP4, MOV, HEIF...): the major brand names the family; AVIF often hides behind mif1."""
    major = head[8:12]
    if major in (b"mif1", b"msf1"):
        box = min(struct.unpack(">I", head[:4])[0], len(head))
        if b"avif" in head[16:box]:
            return _FTYP[b"avif"]
    return _FTYP.get(major, ("video/mp4", "Video"))


def _mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header without ID3 tag: sync bits, layer II or III, no reserved version/bitrate/rate.

    Layer I is left out on purpose: its header "FF FE" is also the UTF-16 byte order mark.
    """
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer in (1, 2) and bitrate != 0xF and rate != 3


def _by_magic(head: bytes) -> tuple[str, str] | None:
    for offset, magic, mime, label in _MAGIC:
        if head.startswith(magic, offset):
            return mime, label
    if head.startswith(b"RIFF") and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _ftyp(head)
    if head[4:8] in (b"moov", b"mdat", b"wide") and head[0] == 0:  # QuickTime files that predate ftyp
        return "video/quicktime", "Video"
    if head.startswith(b"BM") and len(head) >= 18 and head[6:10] == b"\0\0\0\0":
        if struct.unpack("<I", head[14:18])[0] in _BMP_HEADER_SIZES:
            return "image/bmp", "BMP image"
    if _BZIP2.match(head):
        return "application/x-bzip2", "Archive"
    if _mp3_frame(head):
        return "audio/mpeg", "Audio"
    return None


# --- Text and markup ----------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_LEADING = b"\xef\xbb\xbf\xff\xfe \t\r\n\f\v\x00"
_HTML_STARTS = ("<!doctype html", "<html", "<head", "<body", "<script", "<iframe")
# Tags that make a browser that ever sniffs treat text as HTML; found anywhere, the text is no longer plain.
_ACTIVE_TAGS = ("<html", "<script", "<iframe", "<body", "<object", "<embed")
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_TAG_START = re.compile(r"<[a-z!?]")


def _decode(head: bytes) -> tuple[str, bool] | None:
    """Text of the head and whether it is UTF-8; a multi-byte sequence cut by the 8 KiB read is tolerated."""
    codec = "utf-8"
    for bom, name in _BOMS:
        if head.startswith(bom):
            codec, head = name, head[len(bom) :]
            break
    try:
        text = codecs.getincrementaldecoder(codec)().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return text, codec == "utf-8"


def _is_text(text: str) -> bool:
    if "\x00" in text:
        return False
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS)
    return controls * 100 <= len(text)


def _markup(text: str) -> tuple[str, str] | None:
    """HTML, SVG or XML: never text/plain, since any of them can run script if a browser renders it."""
    lower = text.lower()
    lead = lower.lstrip("\ufeff \t\r\n\f\v")
    if lead.startswith(_HTML_STARTS):
        return "text/html", "Web page"
    if lead.startswith("<svg"):
        return "image/svg+xml", "SVG image"
    if lead.startswith("<"):
        if "<html" in lower:
            return "text/html", "Web page"
        if "<svg" in lower:
            return "image/svg+xml", "SVG image"
        if any(tag in lower for tag in _ACTIVE_TAGS):
            return "text/html", "Web page"
        if _TAG_START.match(lead):
            return "application/xml", "XML document"
        return None
    # Not starting with markup: still conservative, as old sniffing browsers looked for tags anywhere.
    if "<svg" in lower:
        return "image/svg+xml", "SVG image"
    if any(tag in lower for tag in _ACTIVE_TAGS):
        return "text/html", "Web page"
    return None


def _starts_with_markup(head: bytes) -> bool:
    return head.lstrip(_LEADING).startswith(b"<")


def _by_text(head: bytes) -> tuple[str, str] | None:
    decoded = _decode(head)
    if decoded is not None and _is_text(decoded[0]):
        text, utf8 = decoded
        # We only ever serve text as UTF-8; UTF-16 text is downloaded, not shown.
        return _markup(text) or (("text/plain", "Text") if utf8 else (OCTET, "Text (UTF-16)"))
    if _starts_with_markup(head):  # not clean UTF-8 (a Latin-1 page, say), but a browser would still parse it as markup
        return _markup(head.lstrip(_LEADING).decode("latin-1"))
    return None


# --- Labels the name may refine (same bytes, same handling, friendlier word) ---------------------

_REFINED_LABELS: dict[str, dict[str, str]] = {
    "application/zip": {
        **dict.fromkeys(("docx", "docm", "dotx", "dotm"), "Word document"),
        **dict.fromkeys(("xlsx", "xlsm", "xltx", "xltm", "ods", "ots"), "Spreadsheet"),
        **dict.fromkeys(("pptx", "pptm", "ppsx", "potx", "odp", "otp"), "Presentation"),
        **dict.fromkeys(("odt", "ott"), "Text document"),
        "odg": "Drawing",
        "epub": "E-book",
    },
    "application/x-ole-storage": {
        **dict.fromkeys(("doc", "dot"), "Word document"),
        **dict.fromkeys(("xls", "xlt"), "Spreadsheet"),
        **dict.fromkeys(("ppt", "pps", "pot"), "Presentation"),
        "msg": "Email message",
    },
    "text/plain": {"csv": "CSV", "tsv": "CSV", "json": "JSON", "md": "Markdown"},
}


def sniff(head: bytes, filename: str = "") -> Sniffed:
    """Classify a file from its first HEAD_SIZE bytes; filename only refines the label of harmless look-alikes."""
    head = bytes(head[:HEAD_SIZE])
    if not head:
        return _make("application/x-empty", "Empty file", refused=True)
    refused = _refused(head)
    if refused:
        return refused
    found = _by_magic(head)
    # Browsers accept "%PDF-" anywhere in the first KiB, but a file that opens with markup stays markup.
    if found is None and b"%PDF-" in head[:1024] and not _starts_with_markup(head):
        found = "application/pdf", "PDF"
    mime, label = found or _by_text(head) or (OCTET, "File")
    label = _REFINED_LABELS.get(mime, {}).get(extension(filename), label)
    return _make(mime, label)


# --- Names ------------------------------------------------------------------------------------------

_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})  # controls; format chars (bidi, zero-width, BOM); lone surrogates
_SEPARATORS = re.compile(r"[/\\]")
_SPACES = re.compile(r"\s+")
_EXT = re.compile(r"\.([^.\s]{1,16})$")


def _truncate(name: str) -> str:
    """Shorten to MAX_NAME characters, cutting the stem so the extension (what OSes open it with) survives."""
    match = _EXT.search(name)
    ext = match.group(0) if match else ""
    return name[: MAX_NAME - len(ext)].rstrip(" .") + ext


def display_name(filename: str, fallback: str = "file") -> str:
    """A user-supplied filename made safe to store and show: no path, no invisible or spoofing characters."""
    name = unicodedata.normalize("NFC", filename or "")
    # Bidi overrides turn "invoice\u202efdp.exe" into "invoiceexe.pdf" on screen; lone surrogates cannot be stored.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = _SEPARATORS.split(name)[-1]
    name = _SPACES.sub(" ", name).strip(" .")
    if len(name) > MAX_NAME:
        name = _truncate(name)
    return name or fallback


def extension(filename: str) -> str:
    """Lower-case extension of the cleaned name, without the dot; "" when there is none (or it has spaces)."""
    match = _EXT.search(display_name(filename, fallback=""))
    return match.group(1).lower() if match else ""


_FALLBACK_DROPPED = frozenset('"\\;')


def _ascii_fallback(name: str) -> str:
    """The plain filename= parameter, for clients that ignore filename*: "Facture été" becomes "Facture ete"."""
    chars = []
    for ch in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(ch) or ch in _FALLBACK_DROPPED or unicodedata.category(ch) == "Cc":
            continue
        # NFKD can turn fullwidth "／" into "/"; "%" invites old clients to percent-decode.
        chars.append(ch if ch.isascii() and ch not in "/%" else "_")
    fallback = _SPACES.sub(" ", "".join(chars)).strip(" .")
    return (_truncate(fallback) if len(fallback) > MAX_NAME else fallback) or "file"


def content_disposition(filename: str, inline: bool = False) -> str:
    """RFC 6266 header value with an ASCII filename and the exact UTF-8 one (RFC 5987); never contains CR/LF."""
    name = display_name(filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- Thumbnails ---------------------------------------------------------------------------------

_THUMBNAIL_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")  # only these decoders ever see uploaded bytes


def thumbnail(data: BinaryIO, max_side: int = 320, max_pixels: int = 40_000_000) -> bytes | None:
    """WebP thumbnail (longest side <= max_side, upright, no metadata) of a PNG/JPEG/GIF/WebP, else None.

    Never raises: a preview is optional and the input is hostile, so any failure (not an image, truncated,
    corrupt, pixel flood) just means "no thumbnail". The size is checked from the header before decoding.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(data, formats=_THUMBNAIL_FORMATS) as image:
                width, height = image.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    return None
                image.draft(None, (max_side, max_side))  # JPEG: let the decoder downscale, far cheaper
                upright = ImageOps.exif_transpose(image)
                small = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
                small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                small.info.clear()  # nothing of the original (EXIF, GPS, ICC, comments) travels on
                out = io.BytesIO()
                small.save(out, "WEBP", quality=80, method=4)
                return out.getvalue()
    except Exception:  # deliberately broad, see docstring: hostile input must degrade to "no thumbnail"
        return None
