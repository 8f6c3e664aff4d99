"""Real documents built byte by byte for tests: PDF (text, image-only, encrypted), DOCX, ODT, EPUB, RTF, EML.

Written from the formats' specifications with the standard library only, so the readers we ship are
tested on files they did not make themselves. Pictures of text (scans, photos) are the one exception:
their pixels are a text PDF drawn by PDFium, then wrapped here as PNG or as an image-only PDF.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
import zlib
from email.message import EmailMessage
from xml.sax.saxutils import escape

IMAGE = "<image>"  # a page spec: one 8x8 grey image and no text, as a scanner makes

# -- PDF ---------------------------------------------------------------------------------------

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf(pages: list[str | None], title: str | None = None, password: str | None = None) -> bytes:
    """A PDF with one page per spec: text (Helvetica, a line per '\\n'), IMAGE, or None for a blank page.

    With `password`, the file is encrypted (standard security handler, RC4 40-bit, revision 2) and
    cannot be opened without it.
    """
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    image = None
    if IMAGE in pages:
        pixels = bytes(range(0, 256, 4))
        image = add(b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
                    b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream")
    kids = []
    streams: dict[int, bytes] = {}
    for spec in pages:
        if spec == IMAGE:
            content = b"q 200 0 0 200 100 400 cm /Im1 Do Q"
        elif spec is None:
            content = b""
        else:
            lines = b" T* ".join(_pdf_string(line) + b" Tj" for line in spec.split("\n"))
            content = b"BT /F1 12 Tf 14 TL 72 720 Td " + lines + b" ET"
        stream = add(b"")
        streams[stream] = content
        resources = b"<< /Font << /F1 %d 0 R >>" % font
        if image:
            resources += b" /XObject << /Im1 %d 0 R >>" % image
        resources += b" >>"
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources %s /Contents %d 0 R >>"
                        % (tree, resources, stream)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info = add(b"") if title else None
    file_id = hashlib.md5(repr((pages, title)).encode()).digest()
    key = None
    encrypt = None
    if password is not None:
        padded = (password.encode("latin-1") + _PAD)[:32]
        owner = rc4(hashlib.md5(padded).digest()[:5], padded)  # owner password = user password
        permissions = -4
        key = hashlib.md5(padded + owner + struct.pack("<i", permissions) + file_id).digest()[:5]
        user = rc4(key, _PAD)
        encrypt = add(b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
                      % (owner.hex().encode(), user.hex().encode(), permissions))

    def seal(num: int, data: bytes) -> bytes:
        if key is None:
            return data
        return rc4(hashlib.md5(key + struct.pack("<i", num)[:3] + b"\0\0").digest()[:10], data)

    for num, content in streams.items():
        data = seal(num, content)
        objects[num - 1] = b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"
    if info:
        objects[info - 1] = b"<< /Title <%s> >>" % seal(info, b"\xfe\xff" + title.encode("utf-16-be")).hex().encode()
    trailer = b"/Root %d 0 R" % catalog
    if info:
        trailer += b" /Info %d 0 R" % info
    if encrypt:
        trailer += b" /Encrypt %d 0 R" % encrypt
    trailer += b" /ID [<%s> <%s>]" % (file_id.hex().encode(), file_id.hex().encode())
    return _pdf_file(objects, trailer)


def _pdf_file(objects: list[bytes], trailer: bytes) -> bytes:
    """Objects 1..n, their cross-reference table and the trailer (its entries after /Size)."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % num + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref))
    return out.getvalue()


# -- pictures of text (scans) ------------------------------------------------------------------

def text_pixels(text: str, dpi: int = 200, top: float = 1.0) -> tuple[int, int, bytes]:
    """(width, height, 8-bit grey rows) of a Letter page showing `text` (a line per '\\n'); `top`
    keeps that share of the page from its top (a small picture: a receipt, a label)."""
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(pdf([text]))[0]
    pixels = page.render(scale=dpi / 72, grayscale=True).to_numpy()
    height, width = pixels.shape[:2]
    height = max(1, int(height * top))
    return width, height, pixels.reshape(-1, width)[:height].tobytes()


def png(width: int, height: int, grey: bytes, declared: tuple[int, int] | None = None) -> bytes:
    """An 8-bit greyscale PNG; `declared` writes other dimensions in its header (a pixel bomb's lie)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + grey[y * width:(y + 1) * width] for y in range(height))
    w, h = declared or (width, height)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def scanned_pdf(pages: list[str | None], dpi: int = 200) -> bytes:
    """A PDF as a scanner makes it: each page one greyscale picture of its text, no text layer; None
    is a page with a text layer instead ("typed page N"), for a PDF that mixes both."""
    return pictures_pdf([None if text is None else text_pixels(text, dpi) for text in pages])


def pictures_pdf(pages: list[tuple[int, int, bytes] | None]) -> bytes:
    """A Letter-size PDF whose pages are greyscale pictures (width, height, rows) or, for None, a
    line of text ("typed page N")."""
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for n, picture in enumerate(pages, 1):
        if picture is None:
            content = b"BT /F1 12 Tf 72 720 Td (typed page %d) Tj ET" % n
            resources = b"<< /Font << /F1 3 0 R >> >>"
        else:
            width, height, grey = picture
            data = zlib.compress(grey, 6)
            objects.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                           b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
                           % (width, height, len(data)) + data + b"\nendstream")
            content = b"q 612 0 0 792 0 0 cm /Im1 Do Q"
            resources = b"<< /XObject << /Im1 %d 0 R >> >>" % len(objects)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources %s /Contents %d 0 R >>"
                       % (resources, len(objects)))
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    return _pdf_file(objects, b"/Root 1 0 R")


# -- zip containers ----------------------------------------------------------------------------

def zip_bytes(members: dict[str, bytes | str], stored_first: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if stored_first:
            z.writestr(zipfile.ZipInfo(stored_first), members[stored_first], zipfile.ZIP_STORED)
        for name, data in members.items():
            if name != stored_first:
                z.writestr(name, data)
    return out.getvalue()


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                  'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                  'officedocument.wordprocessingml.document.main+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
         '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
_STYLES = (f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W_NS}">'
           '<w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal"/></w:style>'
           '<w:style w:type="paragraph" w:styleId="Titre1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/>'
           '<w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>'
           '<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style>'
           '<w:style w:type="paragraph" w:styleId="MyChapter"><w:name w:val="My chapter"/>'
           '<w:basedOn w:val="Titre1"/></w:style></w:styles>')


def w_p(text: str, style: str | None = None, listed: bool = False) -> str:
    """A Word paragraph; '\\t' and '\\n' in `text` become tab and break elements."""
    props = ""
    if style or listed:
        props = "<w:pPr>" + (f'<w:pStyle w:val="{style}"/>' if style else "") + \
                ('<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>' if listed else "") + "</w:pPr>"
    runs = []
    for k, line in enumerate(text.split("\n")):
        if k:
            runs.append("<w:r><w:br/></w:r>")
        for j, part in enumerate(line.split("\t")):
            if j:
                runs.append("<w:r><w:tab/></w:r>")
            runs.append(f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{escape(part)}</w:t></w:r>')
    return f"<w:p>{props}{''.join(runs)}</w:p>"


def w_table(rows: list[list[str]]) -> str:
    cells = "".join("<w:tr>" + "".join(f"<w:tc><w:tcPr/>{w_p(c)}</w:tc>" for c in row) + "</w:tr>" for row in rows)
    return f"<w:tbl><w:tblPr/>{cells}</w:tbl>"


def docx(body: str, title: str | None = None, prolog: str = "", footnotes: list[str] | None = None) -> bytes:
    """A DOCX whose body is `body` (w:p / w:tbl elements); `prolog` goes before the root (a DOCTYPE...)."""
    document = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<w:document xmlns:w="{W_NS}">'
                f"<w:body>{body}<w:sectPr/></w:body></w:document>")
    members: dict[str, bytes | str] = {"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": _RELS,
                                       "word/document.xml": document, "word/styles.xml": _STYLES}
    if title:
        members["docProps/core.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
            'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{escape(title)}</dc:title></cp:coreProperties>")
    if footnotes:
        notes = "".join(f'<w:footnote w:id="{i + 1}">{w_p(n)}</w:footnote>' for i, n in enumerate(footnotes))
        members["word/footnotes.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><w:footnotes xmlns:w="{W_NS}">'
            f'<w:footnote w:type="separator" w:id="0"><w:p><w:r><w:t>SEPARATOR</w:t></w:r></w:p></w:footnote>'
            f"{notes}</w:footnotes>")
    return zip_bytes(members)


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10)) + "]>")


def zip_bomb_docx(gigabytes: int = 1, declared_size: int | None = None) -> bytes:
    """A DOCX whose document.xml inflates to `gigabytes` GiB of well-formed XML (the body is blank space),
    built without ever holding it: deflate output after a full flush depends only on the input, so one
    compressed MiB is repeated, and the zip is written by hand around it (sizes and CRC all correct,
    unless `declared_size` makes the headers lie about the inflated size).
    """
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>'.encode()
    tail = b"</w:body></w:document>"
    block = b" " * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    piece = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    count = gigabytes << 10
    data = start + piece * count + comp.compress(tail) + comp.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = declared_size if declared_size is not None else len(head) + (count << 20) + len(tail)
    members = [("[Content_Types].xml", _CONTENT_TYPES.encode(), 0), ("word/document.xml", data, size)]
    out = io.BytesIO()
    central = io.BytesIO()
    for name, payload, inflated in members:
        if not inflated:
            inflated, crc_m, payload = len(payload), zlib.crc32(payload), _deflate(payload)
        else:
            crc_m = crc
        offset = out.tell()
        head_record = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc_m, len(payload), inflated,
                                  len(name), 0)
        out.write(head_record + name.encode() + payload)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc_m, len(payload),
                                  inflated, len(name), 0, 0, 0, 0, 0, offset) + name.encode())
    cd = central.getvalue()
    cd_offset = out.tell()
    out.write(cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd), cd_offset, 0))
    return out.getvalue()


def table_docx(rows: int, late_row: int, late_words: list[str], compresslevel: int = 9) -> bytes:
    """A DOCX holding one table of `rows` rows of short repeated cells, `late_words` in row `late_row`:
    at level 9 a 40,000-row table is ~70 KB inflating ~230-fold, like a real exported spreadsheet."""
    cells = [["ok", "yes", "ok", "no"] for _ in range(rows)]
    cells[late_row] = late_words
    plain = zipfile.ZipFile(io.BytesIO(docx(w_table(cells))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        for info in plain.infolist():
            z.writestr(info.filename, plain.read(info))
    return out.getvalue()


def _deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


_ODF = "urn:oasis:names:tc:opendocument:xmlns:"


def odt(body: str, title: str | None = None) -> bytes:
    """An ODT whose office:text holds `body` (text:h, text:p, table:table ... elements)."""
    ns = (f'xmlns:office="{_ODF}office:1.0" xmlns:text="{_ODF}text:1.0" xmlns:table="{_ODF}table:1.0" '
          f'xmlns:draw="{_ODF}drawing:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
          f'xmlns:meta="{_ODF}meta:1.0"')
    members: dict[str, bytes | str] = {
        "mimetype": "application/vnd.oasis.opendocument.text",
        "META-INF/manifest.xml": ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                                  f'"{_ODF}manifest:1.0"><manifest:file-entry manifest:full-path="/" '
                                  'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                                  '<manifest:file-entry manifest:full-path="content.xml" '
                                  'manifest:media-type="text/xml"/></manifest:manifest>'),
        "content.xml": (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}>'
                        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>"),
    }
    if title:
        members["meta.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {ns}><office:meta>'
                               f"<dc:title>{escape(title)}</dc:title></office:meta></office:document-meta>")
    return zip_bytes(members, stored_first="mimetype")


def epub(chapters: list[tuple[str, str]], title: str = "A Book", spine: list[int] | None = None,
         encrypted: bool = False) -> bytes:
    """An EPUB with chapters (file name, XHTML body) in OEBPS/; `spine` orders them (default: as given)."""
    order = spine if spine is not None else list(range(len(chapters)))
    manifest = "".join(f'<item id="c{i}" href="text/{name}" media-type="application/xhtml+xml"/>'
                       for i, (name, _) in enumerate(chapters))
    manifest += '<item id="css" href="style.css" media-type="text/css"/>'
    itemrefs = "".join(f'<itemref idref="c{i}"/>' for i in order)
    members: dict[str, bytes | str] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:'
                                   'opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
                                   'media-type="application/oebps-package+xml"/></rootfiles></container>'),
        "OEBPS/content.opf": ('<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" '
                              'version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/'
                              f'1.1/"><dc:identifier id="id">x</dc:identifier><dc:title>{escape(title)}</dc:title>'
                              f"</metadata><manifest>{manifest}</manifest><spine>{itemrefs}</spine></package>"),
        "OEBPS/style.css": "p { margin: 0 }",
    }
    for name, body in chapters:
        members[f"OEBPS/text/{name}"] = (
            '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{escape(title)}</title></head><body>{body}</body></html>")
    if encrypted:
        members["META-INF/encryption.xml"] = (
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:EncryptionMethod '
            'Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><enc:CipherData><enc:CipherReference '
            f'URI="OEBPS/text/{chapters[0][0]}"/></enc:CipherData></enc:EncryptedData></encryption>')
    return zip_bytes(members, stored_first="mimetype")


# -- text formats ------------------------------------------------------------------------------

def eml(subject: str, body: str, html: str | None = None, attachments: dict[str, bytes] | None = None) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "Ana Lima <ana@example.org>"
    msg["To"] = "Ben Okafor <ben@example.org>"
    msg["Date"] = "Tue, 03 Sep 2024 10:15:00 +0200"
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, data in (attachments or {}).items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return bytes(msg)


def rtf(paragraphs: list[str], title: str | None = None) -> bytes:
    """Cp1252 RTF: non-ASCII as \\'hh where cp1252 has it, else as \\uN with a '?' fallback."""
    def encode(text: str) -> str:
        out = []
        for ch in text:
            if ch in "\\{}":
                out.append("\\" + ch)
            elif ord(ch) < 128:
                out.append(ch)
            else:
                try:
                    out.append("\\'%02x" % ch.encode("cp1252")[0])
                except UnicodeEncodeError:  # UTF-16 code units as signed 16-bit numbers
                    units = struct.unpack(f"<{len(ch.encode('utf-16-le')) // 2}H", ch.encode("utf-16-le"))
                    out += [f"\\u{u if u < 32768 else u - 65536}?" for u in units]
        return "".join(out)

    info = "{\\info{\\title %s}{\\author Someone}}" % encode(title) if title else ""
    body = "".join(f"\\pard\\plain {encode(p)}\\par\n" for p in paragraphs)
    return ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss\\fcharset0 Helvetica;}}"
            "{\\colortbl;\\red255\\green0\\blue0;}{\\stylesheet{\\s1 heading 1;}}" + info
            + "{\\*\\generator Seekwise tests}\\f0\\fs24\n" + body + "}").encode("ascii")


# -- spreadsheets and slides (zip XML) ---------------------------------------------------------

_SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


def xlsx(sheets: dict[str, list[list[str | float | None]]]) -> bytes:
    """An XLSX with inline-string and number cells, one worksheet per entry (None: an empty cell)."""
    members: dict[str, bytes | str] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.openxml'
                      'formats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(len(sheets)))
            + "</Types>"),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}"><Relationship '
                        f'Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_SML}" xmlns:r="{_REL_NS}">'
                            "<sheets>" + "".join(f'<sheet name="{escape(n)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                                                 for i, n in enumerate(sheets)) + "</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}">'
            + "".join(f'<Relationship Id="rId{i + 1}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                      for i in range(len(sheets))) + "</Relationships>"),
    }
    for i, rows in enumerate(sheets.values()):
        xml_rows = []
        for r, row in enumerate(rows, 1):
            cells = []
            for c, value in enumerate(row):
                ref = f"{chr(65 + c)}{r}"
                if isinstance(value, (int, float)):
                    cells.append(f'<c r="{ref}"><v>{value}</v></c>')
                elif value is not None:
                    cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
            xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
        members[f"xl/worksheets/sheet{i + 1}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_SML}"><sheetData>{"".join(xml_rows)}'
            "</sheetData></worksheet>")
    return zip_bytes(members)


def _odf(mimetype: str, body: str) -> bytes:
    ns = (f'xmlns:office="{_ODF}office:1.0" xmlns:text="{_ODF}text:1.0" xmlns:table="{_ODF}table:1.0" '
          f'xmlns:draw="{_ODF}drawing:1.0" xmlns:presentation="{_ODF}presentation:1.0" '
          f'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"')
    return zip_bytes({
        "mimetype": mimetype,
        "META-INF/manifest.xml": ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                                  f'"{_ODF}manifest:1.0"><manifest:file-entry manifest:full-path="/" '
                                  f'manifest:media-type="{mimetype}"/></manifest:manifest>'),
        "content.xml": (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
                        f"<office:body>{body}</office:body></office:document-content>"),
    }, stored_first="mimetype")


def ods(sheets: dict[str, list[list[str | float | None]]]) -> bytes:
    tables = []
    for name, rows in sheets.items():
        xml_rows = []
        for row in rows:
            cells = []
            for value in row:
                if value is None:
                    cells.append("<table:table-cell/>")
                elif isinstance(value, (int, float)):
                    cells.append(f'<table:table-cell office:value-type="float" office:value="{value}">'
                                 f"<text:p>{value}</text:p></table:table-cell>")
                else:
                    cells.append(f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p>'
                                 "</table:table-cell>")
            xml_rows.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
        tables.append(f'<table:table table:name="{escape(name)}">{"".join(xml_rows)}</table:table>')
    return _odf("application/vnd.oasis.opendocument.spreadsheet",
                f"<office:spreadsheet>{''.join(tables)}</office:spreadsheet>")


def odp(slides: list[tuple[str, list[str], str]]) -> bytes:
    """An ODP: per slide (title, body paragraphs, speaker notes)."""
    pages = []
    for i, (title, body, notes) in enumerate(slides):
        frames = (f'<draw:frame presentation:class="title"><draw:text-box><text:p>{escape(title)}</text:p>'
                  "</draw:text-box></draw:frame>") if title else ""
        if body:
            frames += ('<draw:frame presentation:class="outline"><draw:text-box><text:list>'
                       + "".join(f"<text:list-item><text:p>{escape(p)}</text:p></text:list-item>" for p in body)
                       + "</text:list></draw:text-box></draw:frame>")
        if notes:
            frames += ('<presentation:notes><draw:page-thumbnail/><draw:frame presentation:class="notes">'
                       f"<draw:text-box><text:p>{escape(notes)}</text:p></draw:text-box></draw:frame>"
                       "</presentation:notes>")
        pages.append(f'<draw:page draw:name="page{i + 1}">{frames}</draw:page>')
    return _odf("application/vnd.oasis.opendocument.presentation",
                f"<office:presentation>{''.join(pages)}</office:presentation>")


_PML = "http://schemas.openxmlformats.org/presentationml/2006/main"
_DML = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _pptx_shape(kind: str | None, paragraphs: list[str]) -> str:
    ph = f'<p:nvPr><p:ph type="{kind}"/></p:nvPr>' if kind else "<p:nvPr/>"
    paras = "".join(f"<a:p><a:r><a:rPr lang=\"en\"/><a:t>{escape(p)}</a:t></a:r></a:p>" for p in paragraphs)
    return (f'<p:sp><p:nvSpPr><p:cNvPr id="2" name="s"/><p:cNvSpPr/>{ph}</p:nvSpPr><p:spPr/>'
            f"<p:txBody><a:bodyPr/>{paras}</p:txBody></p:sp>")


def pptx(slides: list[tuple[str, list[str], str]], table: list[list[str]] | None = None,
         order: list[int] | None = None) -> bytes:
    """A PPTX: per slide (title, body paragraphs, speaker notes); `table` goes on the first slide;
    `order` is the show order of the slide files (default as given)."""
    order = order if order is not None else list(range(len(slides)))
    members: dict[str, bytes | str] = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}"><Relationship '
                        f'Id="rId1" Type="{_REL_NS}/officeDocument" Target="ppt/presentation.xml"/></Relationships>'),
        "ppt/presentation.xml": (f'<?xml version="1.0" encoding="UTF-8"?><p:presentation xmlns:p="{_PML}" '
                                 f'xmlns:r="{_REL_NS}"><p:sldIdLst>'
                                 + "".join(f'<p:sldId id="{256 + k}" r:id="rId{i + 10}"/>' for k, i in enumerate(order))
                                 + "</p:sldIdLst></p:presentation>"),
        "ppt/_rels/presentation.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}">'
            + "".join(f'<Relationship Id="rId{i + 10}" Type="{_REL_NS}/slide" Target="slides/slide{i + 1}.xml"/>'
                      for i in range(len(slides))) + "</Relationships>"),
    }
    for i, (title, body, notes) in enumerate(slides):
        shapes = (_pptx_shape("title", [title]) if title else "") + (_pptx_shape(None, body) if body else "")
        if table and i == 0:
            rows = "".join("<a:tr>" + "".join(f"<a:tc><a:txBody><a:bodyPr/><a:p><a:r><a:t>{escape(c)}</a:t></a:r>"
                                              "</a:p></a:txBody></a:tc>" for c in row) + "</a:tr>" for row in table)
            shapes += (f'<p:graphicFrame><a:graphic><a:graphicData><a:tbl>{rows}</a:tbl></a:graphicData></a:graphic>'
                       "</p:graphicFrame>")
        members[f"ppt/slides/slide{i + 1}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><p:sld xmlns:p="{_PML}" xmlns:a="{_DML}" xmlns:r="{_REL_NS}">'
            f"<p:cSld><p:spTree>{shapes}</p:spTree></p:cSld></p:sld>")
        if notes:
            members[f"ppt/slides/_rels/slide{i + 1}.xml.rels"] = (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}"><Relationship Id="rId2" '
                f'Type="{_REL_NS}/notesSlide" Target="../notesSlides/notesSlide{i + 1}.xml"/></Relationships>')
            members[f"ppt/notesSlides/notesSlide{i + 1}.xml"] = (
                f'<?xml version="1.0" encoding="UTF-8"?><p:notes xmlns:p="{_PML}" xmlns:a="{_DML}"><p:cSld><p:spTree>'
                + _pptx_shape("sldImg", []) + _pptx_shape("body", [notes]) + _pptx_shape("sldNum", ["7"])
                + "</p:spTree></p:cSld></p:notes>")
    return zip_bytes(members)


# -- OLE compound files (MS-CFB), for .msg and .doc --------------------------------------------

_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ole(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file (512-byte sectors) holding `streams`, keyed 'storage/sub/stream';
    streams under 4096 bytes go to the mini stream, as the format requires."""
    entries = [{"name": "Root Entry", "type": 5, "children": [], "data": b""}]
    index = {"": 0}
    for path in streams:
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            key = "/".join(parts[:depth])
            if key not in index:
                index[key] = len(entries)
                entries.append({"name": parts[depth - 1], "type": 2 if depth == len(parts) else 1, "children": [],
                                "data": streams[path] if depth == len(parts) else b""})
                entries[index["/".join(parts[:depth - 1])]]["children"].append(index[key])
    sectors: list[bytes] = []
    fat: list[int] = []

    def chain(data: bytes, marker: int | None = None) -> int:
        if not data:
            return _END
        first = len(sectors)
        count = (len(data) + 511) // 512
        for k in range(count):
            sectors.append(data[k * 512:(k + 1) * 512].ljust(512, b"\0"))
            fat.append(marker if marker is not None else (first + k + 1 if k < count - 1 else _END))
        return first

    mini = bytearray()
    minifat: list[int] = []
    for entry in entries[1:]:
        data = entry["data"]
        if entry["type"] != 2:
            entry["start"] = 0
        elif len(data) >= 4096:
            entry["start"] = chain(data)
        elif data:
            first = len(mini) // 64
            count = (len(data) + 63) // 64
            mini += data.ljust(count * 64, b"\0")
            minifat += [first + k + 1 if k < count - 1 else _END for k in range(count)]
            entry["start"] = first
        else:
            entry["start"] = _END
    entries[0]["start"] = chain(bytes(mini))
    entries[0]["size"] = len(mini)
    minifat_start = chain(struct.pack(f"<{len(minifat)}I", *minifat)) if minifat else _END
    minifat_count = (len(minifat) * 4 + 511) // 512

    def name_key(i: int) -> tuple[int, str]:
        return len(entries[i]["name"]), entries[i]["name"].upper()

    def tree(children: list[int]) -> int:
        """Siblings as a balanced binary tree in the format's order (length, then upper-case name)."""
        ordered = sorted(children, key=name_key)

        def build(lo: int, hi: int) -> int:
            if lo >= hi:
                return _NOSTREAM
            mid = (lo + hi) // 2
            entries[ordered[mid]]["left"] = build(lo, mid)
            entries[ordered[mid]]["right"] = build(mid + 1, hi)
            return ordered[mid]
        return build(0, len(ordered))

    for entry in entries:
        entry["child"] = tree(entry["children"]) if entry["children"] else _NOSTREAM
    directory = bytearray()
    for entry in entries:
        name = entry["name"].encode("utf-16-le") + b"\0\0"
        size = entry.get("size", len(entry["data"]))
        directory += (name.ljust(64, b"\0") + struct.pack("<HBBIII", len(name), entry["type"], 1,
                                                           entry.get("left", _NOSTREAM), entry.get("right", _NOSTREAM),
                                                           entry["child"])
                      + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IQ", entry["start"], size))
    while len(directory) % 512:
        directory += b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM) + b"\0" * 52
    dir_start = chain(bytes(directory))
    fat_count = 1
    while (len(sectors) + fat_count) * 4 > fat_count * 512:
        fat_count += 1
    fat_first = len(sectors)
    fat += [_FATSECT] * fat_count
    fat += [_FREE] * (fat_count * 128 - len(fat))
    table = struct.pack(f"<{len(fat)}I", *fat)
    for k in range(fat_count):
        sectors.append(table[k * 512:(k + 1) * 512])
    assert fat_count <= 109
    difat = [fat_first + k for k in range(fat_count)] + [_FREE] * (109 - fat_count)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, fat_count, dir_start, 0, 4096, minifat_start,
                                        minifat_count, _END, 0) + struct.pack("<109I", *difat))
    return header + b"".join(sectors)


def _filetime(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> bytes:
    import datetime
    delta = datetime.datetime(year, month, day, hour, minute) - datetime.datetime(1601, 1, 1)
    return struct.pack("<Q", (delta.days * 86400 + delta.seconds) * 10_000_000)


def msg(subject: str, body: str, sender: str = "Ana Lima", sender_address: str = "ana@example.org",
        to: str = "Ben Okafor", attachments: dict[str, bytes] | None = None, html: bytes | None = None) -> bytes:
    """An Outlook .msg (MS-OXMSG): UTF-16 string properties as streams, the sent date as a fixed one."""
    def text(value: str) -> bytes:
        return value.encode("utf-16-le")

    date = struct.pack("<II", 0x00390040, 6) + _filetime(2024, 9, 3, 8, 15)
    attachments = attachments or {}
    streams = {
        "__properties_version1.0": b"\0" * 8 + struct.pack("<IIII", 0, len(attachments), 0, len(attachments))
                                   + b"\0" * 8 + date,
        "__substg1.0_0037001F": text(subject),
        "__substg1.0_0C1A001F": text(sender),
        "__substg1.0_5D01001F": text(sender_address),
        "__substg1.0_0E04001F": text(to),
        "__substg1.0_001A001F": text("IPM.Note"),
    }
    if body:
        streams["__substg1.0_1000001F"] = text(body)
    if html is not None:
        streams["__substg1.0_10130102"] = html
    for i, (name, data) in enumerate(attachments.items()):
        prefix = f"__attach_version1.0_#{i:08X}/"
        streams[prefix + "__properties_version1.0"] = b"\0" * 8
        streams[prefix + "__substg1.0_3707001F"] = text(name)
        streams[prefix + "__substg1.0_37010102"] = data
    return ole(streams)


def doc(paragraphs: list[str], unicode_from: int | None = None, title: str | None = None,
        encrypted: bool = False) -> bytes:
    """A Word 97 .doc: the text in two pieces (8-bit cp1252, then UTF-16 from paragraph `unicode_from`),
    a FIB pointing at a CLX in 1Table. Paragraphs end with \\r, as Word writes them."""
    split = len(paragraphs) if unicode_from is None else unicode_from
    first = "".join(p + "\r" for p in paragraphs[:split])
    second = "".join(p + "\r" for p in paragraphs[split:])
    fib = bytearray(1536)
    text_at = len(fib)
    body = first.encode("cp1252") + second.encode("utf-16-le")
    word = bytearray(fib + body)
    flags = 0x0200 | 0x0004 | (0x0100 if encrypted else 0)
    struct.pack_into("<HHHHH", word, 0, 0xA5EC, 0x00C1, 0, 0, 0)
    struct.pack_into("<H", word, 0x0A, flags)
    struct.pack_into("<H", word, 32, 14)             # csw
    struct.pack_into("<H", word, 62, 22)             # cslw
    ccp = len(first) + len(second)
    struct.pack_into("<i", word, 64 + 12, ccp)       # ccpText
    struct.pack_into("<H", word, 152, 93)            # cbRgFcLcb (Word 97)
    pieces = [(0, len(first), (text_at * 2) | 0x40000000)]
    if second:
        pieces.append((len(first), ccp, text_at + len(first)))
    cps = [p[0] for p in pieces] + [ccp]
    plc = struct.pack(f"<{len(cps)}I", *cps) + b"".join(struct.pack("<HIH", 0, fc, 0) for _, _, fc in pieces)
    clx = b"\x01" + struct.pack("<h", 2) + b"\0\0" + b"\x02" + struct.pack("<I", len(plc)) + plc
    table = b"\0" * 16 + clx
    struct.pack_into("<II", word, 154 + 33 * 8, 16, len(clx))  # fcClx, lcbClx
    streams = {"WordDocument": bytes(word).ljust(4096, b"\0"), "1Table": table.ljust(4096, b"\0")}
    if title:
        streams["\x05SummaryInformation"] = _summary(title)
    return ole(streams)


def _summary(title: str) -> bytes:
    """A SummaryInformation property set holding only PIDSI_TITLE (cp1252)."""
    value = title.encode("cp1252") + b"\0"
    value += b"\0" * (-len(value) % 4)
    prop = struct.pack("<II", 0x1E, len(title) + 1) + value
    codepage = struct.pack("<Ihh", 2, 1252, 0)
    section = struct.pack("<II", 8 + 16 + len(codepage) + len(prop), 2) + struct.pack("<II", 1, 24) \
        + struct.pack("<II", 2, 24 + len(codepage)) + codepage + prop
    fmtid = bytes.fromhex("E0859FF2F94F6810AB9108002B27B3D9")
    return struct.pack("<HHI", 0xFFFE, 0, 0x00020005) + b"\0" * 16 + struct.pack("<I", 1) + fmtid \
        + struct.pack("<I", 48) + section


def mbox(messages: list[bytes]) -> bytes:
    """An mboxrd mailbox: each message after a 'From ' line, a 'From ' at a body line start quoted."""
    out = []
    for m in messages:
        quoted = re.sub(rb"^(>*From )", rb">\1", m.replace(b"\r\n", b"\n"), flags=re.M)
        out.append(b"From sender@example.org Tue Sep  3 10:15:00 2024\n" + quoted.rstrip(b"\n") + b"\n\n")
    return b"".join(out)


def _members_of(data: bytes) -> dict[str, bytes]:
    """A zip's members, to rebuild it with one changed."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}
