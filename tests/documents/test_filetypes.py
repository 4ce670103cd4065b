"""File sniffing, safe names, Content-Disposition and thumbnails: the upload path's first line of defence.

Every sample is built from real headers (Pillow, zipfile, gzip, wave...) so the magic table is checked against
what real tools write, not against itself.
"""
import bz2
import gzip
import io
import lzma
import re
import struct
import tarfile
import time
import warnings
import wave
import zipfile
import zlib

import pytest
from PIL import Image

from app.documents.filetypes import (
    HEAD_SIZE,
    IMAGE_TYPES,
    INLINE_TYPES,
    MAX_NAME,
    content_disposition,
    display_name,
    extension,
    sniff,
    thumbnail,
)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _image(fmt: str, size: tuple[int, int] = (8, 6), mode: str = "RGB", colour: object = "red", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def _zip(name: str = "a.txt") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, "hello")
    return out.getvalue()


def _empty_zip() -> bytes:
    out = io.BytesIO()
    zipfile.ZipFile(out, "w").close()
    return out.getvalue()


def _wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(bytes(16))
    return out.getvalue()


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("a.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return out.getvalue()


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def _png_declaring(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR claims another size, CRC fixed: what a pixel-flood upload looks like."""
    png = bytearray(_image("PNG", (1, 1)))
    assert png[12:16] == b"IHDR"
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


# --- sniff: detected types ----------------------------------------------------------------------

DETECTED = [
    ("pdf", PDF, "application/pdf", "PDF"),
    ("pdf-after-junk", b"junk header\n" * 20 + PDF, "application/pdf", "PDF"),
    ("png", _image("PNG"), "image/png", "PNG image"),
    ("jpeg", _image("JPEG"), "image/jpeg", "JPEG image"),
    ("gif89a", _image("GIF"), "image/gif", "GIF image"),
    ("gif87a", b"GIF87a\x01\x00\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "image/gif", "GIF image"),
    ("webp", _image("WEBP"), "image/webp", "WebP image"),
    ("bmp", _image("BMP"), "image/bmp", "BMP image"),
    ("tiff-le", _image("TIFF"), "image/tiff", "TIFF image"),
    ("tiff-be", b"MM\x00*\x00\x00\x00\x08" + bytes(16), "image/tiff", "TIFF image"),
    ("heic", _ftyp(b"heic", b"mif1", b"heic"), "image/heic", "HEIC image"),
    ("heix", _ftyp(b"heix", b"mif1", b"heix"), "image/heic", "HEIC image"),
    ("heif", _ftyp(b"mif1", b"mif1", b"heic"), "image/heif", "HEIF image"),
    ("avif", _ftyp(b"avif", b"avif", b"mif1"), "image/avif", "AVIF image"),
    ("avif-behind-mif1", _ftyp(b"mif1", b"mif1", b"avif"), "image/avif", "AVIF image"),
    ("mp4", _ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4", "Video"),
    ("mov", _ftyp(b"qt  ", b"qt  "), "video/quicktime", "Video"),
    ("mov-legacy", b"\x00\x00\x00\x10moov" + bytes(24), "video/quicktime", "Video"),
    ("m4a", _ftyp(b"M4A ", b"M4A ", b"mp42"), "audio/mp4", "Audio"),
    ("mp3-id3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(32), "audio/mpeg", "Audio"),
    ("mp3-frame", b"\xff\xfb\x90\x64" + bytes(413), "audio/mpeg", "Audio"),
    ("wav", _wav(), "audio/wav", "Audio"),
    ("ogg", b"OggS\x00\x02" + bytes(22) + b"\x01vorbis", "audio/ogg", "Audio"),
    ("zip", _zip(), "application/zip", "Archive"),
    ("zip-empty", _empty_zip(), "application/zip", "Archive"),
    ("gzip", gzip.compress(b"hello"), "application/gzip", "Archive"),
    ("bzip2", bz2.compress(b"hello"), "application/x-bzip2", "Archive"),
    ("xz", lzma.compress(b"hello"), "application/x-xz", "Archive"),
    ("tar", _tar(), "application/x-tar", "Archive"),
    ("7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24), "application/x-7z-compressed", "Archive"),
    ("rar4", b"Rar!\x1a\x07\x00\xcf\x90\x73\x00\x00\x0d" + bytes(8), "application/vnd.rar", "Archive"),
    ("rar5", b"Rar!\x1a\x07\x01\x00" + bytes(16), "application/vnd.rar", "Archive"),
    ("ole2", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "application/x-ole-storage", "Office document"),
    ("rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Hello}", "application/rtf", "Rich text document"),
    ("text", b"Hello,\nthis is a note.\n", "text/plain", "Text"),
    ("text-utf8", "Facture été, reçu 100 €\n".encode(), "text/plain", "Text"),
    ("text-utf8-bom", "\ufeffBonjour".encode(), "text/plain", "Text"),
    ("text-less-than", b"<3 you, see you at 5 < 6\n", "text/plain", "Text"),
    ("text-one-escape", b"log line \x1b[0m\n" + b"x" * 200, "text/plain", "Text"),
    ("text-utf16", "\ufeffBonjour".encode("utf-16-le"), "application/octet-stream", "Text (UTF-16)"),
    ("binary", bytes(range(256)) * 4, "application/octet-stream", "File"),
    ("latin1", "café crème".encode("latin-1"), "application/octet-stream", "File"),
    ("nul-in-text", b"hello\x00world", "application/octet-stream", "File"),
    ("many-controls", b"a\x01b\x02c\x03d\x04" * 20, "application/octet-stream", "File"),
]


@pytest.mark.parametrize(("head", "mime", "label"), [case[1:] for case in DETECTED], ids=[case[0] for case in DETECTED])
def test_sniff_detects_type_from_bytes(head, mime, label):
    found = sniff(head)
    assert (found.mime, found.label, found.refused) == (mime, label, False)


@pytest.mark.parametrize("head", [case[1] for case in DETECTED], ids=[case[0] for case in DETECTED])
def test_only_allow_listed_types_are_served_as_themselves(head):
    found = sniff(head)
    if found.mime == "text/plain":
        assert found.served_type == "text/plain; charset=utf-8"
    elif found.mime in INLINE_TYPES:
        assert found.served_type == found.mime
    else:
        assert found.served_type == "application/octet-stream"


def test_inline_and_image_type_sets():
    assert INLINE_TYPES == {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"}
    assert IMAGE_TYPES == {"image/png", "image/jpeg", "image/gif", "image/webp"}
    assert IMAGE_TYPES < INLINE_TYPES


def test_pdf_marker_only_counts_in_the_first_kib():
    assert sniff(b"x" * 1100 + b"%PDF-1.4\n").mime == "text/plain"


def test_empty_file_is_refused_as_empty():
    found = sniff(b"")
    assert (found.mime, found.refused, found.served_type) == ("application/x-empty", True, "application/octet-stream")


def test_text_cut_mid_character_by_the_head_read_is_still_text():
    for char in "é€😀":
        data = b"a" * (HEAD_SIZE - 1) + char.encode()
        assert data[:HEAD_SIZE].endswith(char.encode()[:1])  # the 8 KiB read splits the character
        assert sniff(data).mime == "text/plain"
        assert sniff(data[:HEAD_SIZE]).mime == "text/plain"


def test_longer_head_is_cut_to_head_size():
    # A stray byte after the first 8 KiB must not change the verdict, whatever the caller passes.
    assert sniff(b"a" * HEAD_SIZE + b"\x00\xff").mime == "text/plain"


def test_invalid_utf8_in_the_middle_is_not_text():
    assert sniff(b"hello \xff world").mime == "application/octet-stream"


@pytest.mark.parametrize(
    ("filename", "label"),
    [("report.docx", "Word document"), ("Budget.XLSX", "Spreadsheet"), ("slides.pptx", "Presentation"), ("letter.odt", "Text document"),
     ("sheet.ods", "Spreadsheet"), ("photos.zip", "Archive"), ("sneaky.pdf", "Archive"), ("", "Archive")],
)
def test_name_refines_zip_label_only(filename, label):
    found = sniff(_zip("word/document.xml"), filename)
    assert (found.mime, found.label, found.served_type) == ("application/zip", label, "application/octet-stream")


def test_name_refines_ole2_and_text_labels():
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    assert sniff(ole2, "old.doc").label == "Word document"
    assert sniff(ole2, "old.xls").label == "Spreadsheet"
    csv = sniff(b"a,b\n1,2\n", "export.csv")
    assert (csv.mime, csv.label, csv.served_type) == ("text/plain", "CSV", "text/plain; charset=utf-8")


# --- sniff: the name never decides --------------------------------------------------------------


def test_html_named_pdf_is_html_and_downloaded():
    found = sniff(b"<html><script>alert(document.cookie)</script></html>", "evil.pdf")
    assert (found.mime, found.served_type) == ("text/html", "application/octet-stream")


def test_pdf_named_jpg_is_pdf():
    found = sniff(PDF, "photo.jpg")
    assert (found.mime, found.served_type) == ("application/pdf", "application/pdf")


def test_png_named_txt_is_png():
    assert sniff(_image("PNG"), "notes.txt").mime == "image/png"


def test_executable_named_pdf_is_refused():
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56), "invoice.pdf").refused


# --- sniff: refused content ---------------------------------------------------------------------

REFUSED = [
    ("pe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(54) + b"PE\x00\x00", "application/x-msdownload"),
    ("elf", b"\x7fELF\x02\x01\x01\x00" + bytes(56), "application/x-executable"),
    ("macho-32", b"\xfe\xed\xfa\xce\x00\x00\x00\x07" + bytes(24), "application/x-mach-binary"),
    ("macho-64", b"\xfe\xed\xfa\xcf\x01\x00\x00\x07" + bytes(24), "application/x-mach-binary"),
    ("macho-32-le", b"\xce\xfa\xed\xfe\x07\x00\x00\x00" + bytes(24), "application/x-mach-binary"),
    ("macho-64-le", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(24), "application/x-mach-binary"),
    ("macho-fat", b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(40), "application/x-mach-binary"),
    ("macho-fat-64", b"\xca\xfe\xba\xbf\x00\x00\x00\x02" + bytes(40), "application/x-mach-binary"),
    ("java-class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(40), "application/java-vm"),
    ("shebang", b"#!/bin/sh\nrm -rf /\n", "text/x-script"),
    ("shebang-python", b"#!/usr/bin/env python3\nprint(1)\n", "text/x-script"),
    ("php", b"<?php system($_GET['c']); ?>", "application/x-php"),
    ("php-upper", b"<?PHP echo 1; ?>", "application/x-php"),
    ("php-short-echo", b"Hello <?= $name ?>", "application/x-php"),
    ("php-after-text", b"x" * 4000 + b"<?php", "application/x-php"),
    ("php-in-gif", _image("GIF") + b"<?php system($_GET['c']); __halt_compiler();", "application/x-php"),
    ("php-in-jpeg", _image("JPEG") + b"<?php phpinfo();", "application/x-php"),
    ("phar", b"GIF89a" + bytes(40) + b"__HALT_COMPILER(); ?>\r\n", "application/x-phar"),
    ("phar-lower", b"PK\x03\x04" + bytes(40) + b"__halt_compiler();", "application/x-phar"),
]


@pytest.mark.parametrize(("head", "mime"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_programs_and_server_scripts_are_refused(head, mime):
    found = sniff(head, "harmless.txt")
    assert (found.mime, found.refused, found.served_type) == (mime, True, "application/octet-stream")
    assert found.label


def test_php_scan_stops_after_four_kib():
    assert sniff(b"x" * 5000 + b"<?php").mime == "text/plain"


# --- sniff: markup ------------------------------------------------------------------------------

MARKUP = [
    ("doctype", b"<!DOCTYPE html><html><body>hi</body></html>", "text/html"),
    ("doctype-lower", b"<!doctype html>", "text/html"),
    ("upper", b"<HTML><BODY>hi", "text/html"),
    ("leading-space", b"  \r\n\t<html>", "text/html"),
    ("bom", b"\xef\xbb\xbf<html>", "text/html"),
    ("bom-and-space", b"\xef\xbb\xbf \n <Html>", "text/html"),
    ("head", b"<head><title>x</title></head>", "text/html"),
    ("body", b"<body onload=alert(1)>", "text/html"),
    ("script", b"<script>alert(1)</script>", "text/html"),
    ("iframe", b"<IFRAME src=//evil>", "text/html"),
    ("comment-then-script", b"<!-- hi --><script>alert(1)</script>", "text/html"),
    ("fragment-with-script", b"<p>hello</p><img src=x><script>alert(1)</script>", "text/html"),
    ("script-in-text", b"Dear customer,\nsee <script>alert(1)</script>\n", "text/html"),
    ("latin1-html", b"<html><body>caf\xe9</body></html>", "text/html"),
    ("utf16-html", b"\xff\xfe" + "<html><script>x</script>".encode("utf-16-le"), "text/html"),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
    ("svg-upper", b"<SVG onload=alert(1)>", "image/svg+xml"),
    ("svg-with-prolog", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    ("svg-with-doctype", b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg/>', "image/svg+xml"),
    ("svg-in-text", b"look: <svg onload=alert(1)>", "image/svg+xml"),
    ("xhtml", b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><svg/></html>', "text/html"),
    ("xml", b'<?xml version="1.0" encoding="UTF-8"?>\n<invoice><total>12</total></invoice>', "application/xml"),
    ("xml-no-prolog", b"<invoice><total>12</total></invoice>", "application/xml"),
    ("xml-with-script", b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml"><script>1</script>', "text/html"),
]


@pytest.mark.parametrize(("head", "mime"), [case[1:] for case in MARKUP], ids=[case[0] for case in MARKUP])
def test_markup_is_never_plain_text_nor_inline(head, mime):
    found = sniff(head, "notes.txt")
    assert (found.mime, found.refused, found.served_type) == (mime, False, "application/octet-stream")


def test_jpeg_polyglot_stays_jpeg():
    found = sniff(_image("JPEG") + b"<html><script>alert(1)</script>")
    assert (found.mime, found.served_type) == ("image/jpeg", "image/jpeg")


def test_file_starting_with_html_is_html_even_with_pdf_marker():
    found = sniff(b"<html><script>alert(1)</script>" + PDF)
    assert (found.mime, found.served_type) == ("text/html", "application/octet-stream")


# --- display_name / extension -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\a.pdf", "a.pdf"),
        ("dir/sub\\mixed/name.txt", "name.txt"),
        ("inv\x00oice.pdf", "invoice.pdf"),
        ("evil.pdf\r\nSet-Cookie: a=b", "evil.pdfSet-Cookie: a=b"),
        ("a\tb.pdf", "ab.pdf"),
        ("<script>alert(1)</script>.pdf", "script>.pdf"),
        ("  spaced   out \u00a0 name .pdf  ", "spaced out name .pdf"),
        ("trailing dots...", "trailing dots"),
        (".hidden", "hidden"),
        ("e\u0301te\u0301.txt", "\u00e9t\u00e9.txt"),
        ("zero\u200bwidth\u200c\u200d\ufeff.txt", "zerowidth.txt"),
        ("lone\udcffsurrogate.txt", "lonesurrogate.txt"),
        ("line\u2028sep.txt", "line sep.txt"),
        ("Facture été.pdf", "Facture été.pdf"),
    ],
)
def test_display_name(raw, clean):
    assert display_name(raw) == clean


def test_display_name_keeps_markup_as_text_for_the_template_to_escape():
    # "/" splits paths, so the closing tag's slash cuts the name: what remains is plain text, no controls.
    assert display_name("<b>bold</b>.pdf") == "b>.pdf"
    assert display_name("<script>alert(1)<\x0a/script>.pdf") == "script>.pdf"
    assert display_name("<img src=x onerror=alert(1)>.pdf") == "<img src=x onerror=alert(1)>.pdf"


def test_display_name_removes_bidi_controls():
    name = display_name("invoice\u202efdp.exe")
    assert name == "invoicefdp.exe"
    for ch in "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert display_name(f"a{ch}b.pdf") == "ab.pdf"


@pytest.mark.parametrize("raw", ["..", ".", "", "   ", "../", "/", "\\", "\x00\x01", "\u202e", ". . ."])
def test_display_name_falls_back_when_nothing_remains(raw):
    assert display_name(raw) == "file"
    assert display_name(raw, fallback="document") == "document"


def test_display_name_truncates_the_stem_and_keeps_the_extension():
    name = display_name("a" * 300 + ".pdf")
    assert len(name) == MAX_NAME == 255
    assert name.endswith("aaa.pdf")
    assert len(display_name("é" * 300)) == 255  # characters, not bytes
    assert len(display_name("x" * 300 + "." + "y" * 40)) == 255  # absurd "extension": plain cut


@pytest.mark.parametrize(
    ("raw", "ext"),
    [("Report.PDF", "pdf"), ("archive.tar.gz", "gz"), ("README", ""), (".bashrc", ""), ("a.b c", ""), ("../x.exe", "exe"),
     ("a.pdf.", "pdf"), ("", ""), ("photo.JPEG\u202e", "jpeg")],
)
def test_extension(raw, ext):
    assert extension(raw) == ext


# --- content_disposition ------------------------------------------------------------------------

HEADER = re.compile(r"""(attachment|inline); filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~-]+""")


def test_content_disposition_ascii():
    assert content_disposition("report.pdf") == "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    assert content_disposition("report.pdf", inline=True) == "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"


def test_content_disposition_accented():
    value = content_disposition("Facture été.pdf")
    assert "filename*=UTF-8''Facture%20%C3%A9t%C3%A9.pdf" in value
    assert 'filename="Facture ete.pdf"' in value


def test_content_disposition_non_latin_gets_placeholder_fallback():
    value = content_disposition("請求書.pdf")
    assert 'filename="___.pdf"' in value
    assert "filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf" in value


def test_content_disposition_fallback_drops_quotes_semicolons_and_backslashes():
    value = content_disposition('my "quoted"; file.pdf')
    assert 'filename="my quoted file.pdf"' in value
    assert "filename*=UTF-8''my%20%22quoted%22%3B%20file.pdf" in value
    # Fullwidth look-alikes become '"', "\\" and "/" under NFKD: they must not come back through the fallback.
    value = content_disposition("a\uff02b\uff3cc\uff0fd\uff1b.pdf")
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == "abc_d.pdf"


def test_content_disposition_runs_display_name_first():
    assert content_disposition("../../etc/passwd") == "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
    assert content_disposition("..") == "attachment; filename=\"file\"; filename*=UTF-8''file"


NASTY = [
    "\r\n",
    "a\r\nSet-Cookie: session=x",
    "a\rb\nc.pdf",
    "a\u0085b\u2028c\u2029d.pdf",
    "\x00\x01\x1f\x7f.pdf",
    '"; filename=evil.exe; x="',
    "a\\\"\r\nb",
    "\u202egnp.exe",
    "😀 émoji 🎉.pdf",
    "\udcff\udc80.txt",
    "%0d%0a.pdf",
    "\uff02\uff1b\uff3c\uff0f\uff0e\uff0e",
    "\u2024\u2024/\u2025",
    "ﷺ" * 40,
    "x" * 1000 + "\r\n.pdf",
    "\t \t",
    "=?utf-8?q?a?=.pdf",
    "\u0130\u0131\u00df\ufb01.pdf",
]


@pytest.mark.parametrize("inline", [False, True])
def test_content_disposition_never_breaks_the_header(inline):
    for raw in NASTY:
        value = content_disposition(raw, inline=inline)
        assert "\r" not in value and "\n" not in value, raw
        assert value.isascii(), raw
        assert HEADER.fullmatch(value), (raw, value)
        fallback = value.split('filename="', 1)[1].rsplit('"; filename*=', 1)[0]
        assert not set(fallback) & set('"\\;'), (raw, fallback)
        assert fallback and len(fallback) <= 255


# --- thumbnail ----------------------------------------------------------------------------------


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_thumbnail_of_large_png_is_small_webp():
    result = thumbnail(io.BytesIO(_image("PNG", (2000, 1000))))
    image = _open(result)
    assert (image.format, image.size) == ("WEBP", (320, 160))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_thumbnail_formats(fmt):
    image = _open(thumbnail(io.BytesIO(_image(fmt, (640, 480)))))
    assert (image.format, image.size) == ("WEBP", (320, 240))


def test_thumbnail_respects_max_side_and_does_not_upscale():
    assert _open(thumbnail(io.BytesIO(_image("PNG", (500, 1000))), max_side=100)).size == (50, 100)
    assert _open(thumbnail(io.BytesIO(_image("PNG", (10, 6))))).size == (10, 6)


def test_thumbnail_keeps_transparency():
    image = _open(thumbnail(io.BytesIO(_image("PNG", (40, 40), mode="RGBA", colour=(255, 0, 0, 128)))))
    assert image.mode == "RGBA"


def test_thumbnail_takes_first_gif_frame():
    frames = [Image.new("RGB", (100, 50), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = _open(thumbnail(io.BytesIO(out.getvalue()))).convert("RGB")
    assert image.size == (100, 50)
    red, green, blue = image.getpixel((50, 25))
    assert red > 200 and blue < 60


def _rotated_jpeg() -> bytes:
    """200x100: red left half, blue right half, EXIF says "rotate 90° clockwise to display", plus private tags."""
    image = Image.new("RGB", (200, 100), "blue")
    image.paste("red", (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "SecretCam"  # Make
    exif[0x010E] = "Customer's living room"  # ImageDescription
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def test_thumbnail_applies_exif_orientation():
    image = _open(thumbnail(io.BytesIO(_rotated_jpeg()))).convert("RGB")
    assert image.size == (100, 200)
    top, bottom = image.getpixel((50, 20)), image.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60  # the red left half is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_thumbnail_strips_metadata():
    result = thumbnail(io.BytesIO(_rotated_jpeg()))
    assert b"SecretCam" not in result and b"living room" not in result
    image = _open(result)
    assert not image.getexif()
    assert not {"exif", "icc_profile", "xmp"} & set(image.info)


def test_pixel_flood_is_refused_before_decoding():
    start = time.perf_counter()
    assert thumbnail(io.BytesIO(_png_declaring(50_000, 50_000))) is None
    assert time.perf_counter() - start < 1
    assert _png_declaring(50_000, 50_000)[12:16] == b"IHDR"


def test_pixel_limit_is_ours_not_only_pillows():
    # 49 Mpx: under Pillow's own bomb threshold, over ours.
    start = time.perf_counter()
    assert thumbnail(io.BytesIO(_png_declaring(7000, 7000))) is None
    assert time.perf_counter() - start < 1
    assert thumbnail(io.BytesIO(_png_declaring(7000, 7000)), max_pixels=100) is None


def test_decompression_bomb_warning_becomes_none_and_does_not_leak():
    # 100 Mpx sets off Pillow's DecompressionBombWarning; with our own cap lifted it must still end as None.
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert thumbnail(io.BytesIO(_png_declaring(10_000, 10_000)), max_pixels=10**12) is None
    assert not caught
    assert warnings.filters == filters


@pytest.mark.parametrize(
    "data",
    [
        _image("JPEG", (64, 64))[:200],
        b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8,
        _image("PNG", (64, 64))[:60],
        b"GIF89a\xff\xff\xff\xff" + bytes(20),
        b"hello, not an image",
        PDF,
        b"",
        _image("BMP"),  # a real image, but not a format we decode
        _image("TIFF"),
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    ],
    ids=["truncated-jpeg", "garbage-jpeg", "truncated-png", "bad-gif", "text", "pdf", "empty", "bmp", "tiff", "svg"],
)
def test_thumbnail_returns_none_for_non_images_and_corrupt_files(data):
    assert thumbnail(io.BytesIO(data)) is None
