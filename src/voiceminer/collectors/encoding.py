"""Reading bytes as text: encoding and delimiter detection.

Encoding detection order (when the caller gives none):

1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
2. NUL-byte patterns of BOM-less UTF-16;
3. strict UTF-8;
4. charset-normalizer's guess, restricted to sensible results: a guess of a
   Latin-script single-byte code page (cp1257, cp1250, latin-1, ...) is
   replaced by cp1252 whenever cp1252 can decode the bytes, unless the
   detected language fits that code page (Polish for cp1250 ...), because on
   short Western European text the detector often picks a neighbour code page;
   other guesses (Cyrillic, Greek, CJK ...) need enough non-ASCII bytes;
5. cp1252.

>>> detect_encoding("café".encode("utf-8"))
'utf-8'
>>> detect_encoding(b"\\xef\\xbb\\xbfhi")
'utf-8-sig'
>>> detect_encoding("“café”".encode("cp1252"))
'cp1252'
>>> detect_delimiter("a;b;c\\n1;2;3\\n", ".csv")
';'
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

__all__ = ["FileInfo", "physical_lines", "detect_encoding", "decode_bytes", "read_text",
           "detect_delimiter", "sniff_file", "TextSource", "open_text"]

log = logging.getLogger(__name__)

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"

_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Code pages for Latin-script text: on Western text cp1252 is the better guess.
_LATIN_FAMILY = {
    "cp1250", "cp1252", "cp1254", "cp1257", "cp775", "cp850", "cp437", "cp858",
    "latin_1", "iso8859_1", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9",
    "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16",
    "mac_roman", "mac_latin2", "mac_iceland", "mac_turkish", "hp_roman8",
}
# Latin code pages trusted over cp1252 only when the detected language fits.
_CENTRAL = {"Polish", "Czech", "Slovak", "Hungarian", "Croatian", "Slovene", "Romanian", "Serbian"}
_REGIONAL = {
    "cp1250": _CENTRAL, "iso8859_2": _CENTRAL, "iso8859_16": _CENTRAL, "mac_latin2": _CENTRAL,
    "cp1257": {"Lithuanian", "Latvian", "Estonian"}, "iso8859_13": {"Lithuanian", "Latvian"},
    "cp1254": {"Turkish"}, "iso8859_9": {"Turkish"},
}
_MULTIBYTE = {"shift_jis", "cp932", "euc_jp", "iso2022_jp", "gb18030", "gbk", "gb2312",
              "big5", "big5hkscs", "cp950", "euc_kr", "cp949", "johab"}
# Other guesses accepted as they are, given enough non-ASCII bytes to judge by
# (BOM-less UTF-16/32 is left to the NUL-byte check).
_ACCEPTED = _MULTIBYTE | {"cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp866", "cp1253",
                          "iso8859_7", "cp1255", "iso8859_8", "cp1256", "iso8859_6", "cp874"}


@dataclass(frozen=True)
class FileInfo:
    """What was detected about one input file.

    ``delimiter`` is None for formats that have none (xlsx, json, jsonl, txt),
    ``encoding`` is None for xlsx.
    """

    format: str
    encoding: str | None = None
    delimiter: str | None = None


def physical_lines(text: str) -> list[str]:
    """Split on ``\\n``, ``\\r\\n`` and ``\\r`` only (unlike str.splitlines, which also
    splits on form feeds and U+2028 and would shift line numbers).

    >>> physical_lines("a\\r\\nb\\u2028c\\rd\\n")
    ['a', 'b\\u2028c', 'd']
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _utf16_without_bom(sample: bytes) -> str | None:
    """Guess BOM-less UTF-16 from where the NUL bytes sit (ASCII-heavy text)."""
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 4
    if odd > half and even == 0:
        return "utf-16-le"
    if even > half and odd == 0:
        return "utf-16-be"
    return None


def _charset_normalizer_guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    non_ascii = sum(1 for b in data[:SNIFF_BYTES] if b > 127)
    for match in from_bytes(data[: SNIFF_BYTES * 4]):
        name = codecs.lookup(match.encoding).name.replace("-", "_")
        if name in _LATIN_FAMILY:
            if match.language in _REGIONAL.get(name, ()) or not _decodes(data, "cp1252"):
                return match.encoding
            return "cp1252"
        if name in _ACCEPTED and non_ascii >= (16 if name in _MULTIBYTE else 8):
            return match.encoding
    return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def detect_encoding(data: bytes) -> str:
    """Best encoding for ``data`` (see the module docs for the order).

    >>> detect_encoding("hé".encode("utf-16"))
    'utf-16'
    """
    return _detect(data, lambda name: _decodes(data, name), lambda: _charset_normalizer_guess(data))


def _detect(head: bytes, decodes: Callable[[str], bool], guess: Callable[[], str | None]) -> str:
    """The detection order over a file's first bytes ``head``: a BOM, UTF-16 without one, UTF-8
    (``decodes(name)`` checks the whole content strictly), then ``guess()`` or cp1252."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    utf16 = _utf16_without_bom(head[:SNIFF_BYTES])
    if utf16 and decodes(utf16):
        return utf16
    if decodes("utf-8"):
        return "utf-8"
    return guess() or "cp1252"


MIXED = "utf-8+cp1252"  # the name reported for a file decoded line by line


def decode_mixed(data: bytes) -> str | None:
    """A file whose lines are partly UTF-8 and partly Windows-1252 (two exports pasted together),
    decoded line by line; None unless both kinds of line are there.

    >>> decode_mixed("café\\n".encode("utf-8") + "naïve\\n".encode("cp1252"))
    'café\\nnaïve\\n'
    >>> decode_mixed("naïve".encode("cp1252")) is None
    True
    """
    out, utf8, legacy = [], 0, 0
    for line in data.split(b"\n"):
        try:
            out.append(line.decode("utf-8"))
            utf8 += any(b > 127 for b in line)
        except UnicodeDecodeError:
            out.append(line.decode("cp1252", errors="replace"))
            legacy += 1
    return "\n".join(out) if utf8 and legacy else None


def decode_bytes(data: bytes, encoding: str | None, path: str) -> tuple[str, str]:
    """Decode ``data`` with ``encoding`` (detected when None); return (text, encoding).

    Raises InputError naming ``path`` when the bytes cannot be decoded.

    >>> decode_bytes(b"ok", None, "x.csv")
    ('ok', 'utf-8')
    """
    chosen = encoding or detect_encoding(data)
    if encoding is None and chosen not in ("utf-8", "utf-8-sig") and not chosen.startswith(("utf-16", "utf-32")):
        mixed = decode_mixed(data)
        if mixed is not None:
            return mixed, MIXED
    try:
        return data.decode(chosen), chosen
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", path=path) from None
    except UnicodeDecodeError as exc:
        hint = "" if encoding else "; pass the right one with --encoding"
        raise InputError(f"cannot decode as {chosen}: {exc.reason} at byte {exc.start}{hint}",
                         path=path) from None


def read_text(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Read a whole text file; return (text, encoding used).

    Raises InputError when the file cannot be read or decoded.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None
    text, used = decode_bytes(data, encoding, str(path))
    log.info("%s: encoding %s", path, used)
    return text, used


# -- streaming: a file is decoded chunk by chunk, never held whole ------------------------------
CHUNK_BYTES = 1 << 18  # 256 KiB: the bytes (and their text) held while checking an encoding


def _byte_chunks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                yield chunk
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None


def _stream_error(path: Path, encoding: str, count: str | None = None) -> tuple[str | None, int]:
    """Decode the whole file chunk by chunk: (None, count of ``count``) when it decodes, else
    (the reason and byte offset of the first bad byte, -1). Raises InputError for an unknown encoding."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", path=str(path)) from None
    consumed, found = 0, 0
    chunks = _byte_chunks(path)
    for chunk in chunks:
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            chunks.close()
            return f"cannot decode as {encoding}: {exc.reason} at byte {consumed - pending + exc.start}", -1
        consumed += len(chunk)
        if count:
            found += text.count(count)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return f"cannot decode as {encoding}: {exc.reason} at byte {consumed - len(exc.object) + exc.start}", -1
    return None, found


def _stream_decodes(path: Path, encoding: str) -> bool:
    try:
        return _stream_error(path, encoding)[0] is None
    except InputError:
        return False


def _stream_mixed(path: Path) -> bool:
    """Whether the file's lines are partly UTF-8 (with non-ASCII) and partly not (see :func:`decode_mixed`)."""
    utf8 = legacy = False
    for line in _binary_lines(path):
        try:
            line.decode("utf-8")
            utf8 = utf8 or any(b > 127 for b in line)
        except UnicodeDecodeError:
            legacy = True
        if utf8 and legacy:
            return True
    return False


def _binary_lines(path: Path) -> Iterator[bytes]:
    """The file split on ``\\n`` (the newline kept), as :func:`decode_mixed` splits it."""
    try:
        with path.open("rb") as fh:
            yield from fh
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None


def _sample(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None


def _detect_file_encoding(path: Path) -> str:
    """:func:`detect_encoding` for a file, reading a sample and streaming the strict checks."""
    sample = _sample(path, SNIFF_BYTES * 4)
    return _detect(sample, lambda name: _stream_decodes(path, name),
                   lambda: _charset_normalizer_file_guess(path, sample))


def _charset_normalizer_file_guess(path: Path, sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    non_ascii = sum(1 for b in sample[:SNIFF_BYTES] if b > 127)
    for match in from_bytes(sample):
        name = codecs.lookup(match.encoding).name.replace("-", "_")
        if name in _LATIN_FAMILY:
            if match.language in _REGIONAL.get(name, ()) or not _stream_decodes(path, "cp1252"):
                return match.encoding
            return "cp1252"
        if name in _ACCEPTED and non_ascii >= (16 if name in _MULTIBYTE else 8):
            return match.encoding
    return None


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


@dataclass(frozen=True)
class TextSource:
    """A text file whose encoding is known and whose bytes all decode: :meth:`lines` reads it again
    from the start each time it is called, one line at a time (bounded memory however big the file)."""

    path: Path
    encoding: str  # the name reported (``utf-8+cp1252`` for a mixed file)
    quotes: int = 0  # how many ``"`` the file holds (counted only when asked for)

    def lines(self) -> Iterator[str]:
        """Lines with their terminators (``\\n``, ``\\r\\n`` or ``\\r``), as ``open(newline="")`` gives them."""
        if self.encoding == MIXED:
            return self._mixed_lines()
        return self._plain_lines()

    def _plain_lines(self) -> Iterator[str]:
        try:
            with self.path.open("r", encoding=self.encoding, newline="") as fh:
                yield from fh
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(self.path)) from None

    def _mixed_lines(self) -> Iterator[str]:
        for raw in _binary_lines(self.path):
            try:
                piece = raw.decode("utf-8")
            except UnicodeDecodeError:
                piece = raw.decode("cp1252", errors="replace")
            yield from _LINE.findall(piece)

    def physical(self) -> Iterator[str]:
        """Lines without terminators, numbered as :func:`physical_lines` numbers them."""
        for line in self.lines():
            yield line.rstrip("\r\n") if line.endswith(("\n", "\r")) else line

    def head(self, chars: int) -> str:
        """The first ``chars`` characters (or the whole text, if shorter)."""
        parts, size = [], 0
        lines = self.lines()
        for line in lines:
            parts.append(line)
            size += len(line)
            if size >= chars:
                break
        if hasattr(lines, "close"):
            lines.close()
        return "".join(parts)[:chars]


def open_text(path: str | Path, encoding: str | None = None, *, count_quotes: bool = False) -> TextSource:
    """Detect (or check) the encoding of a text file without reading it whole.

    Every byte is decoded once here, so a file that cannot be decoded raises InputError
    (naming the byte) before any of its rows is read. Same detection as :func:`decode_bytes`.
    """
    path = Path(path)
    chosen = encoding or _detect_file_encoding(path)
    if encoding is None and chosen not in ("utf-8", "utf-8-sig") and not chosen.startswith(("utf-16", "utf-32")):
        if _stream_mixed(path):
            quotes = sum(line.count('"') for line in TextSource(path, MIXED).lines()) if count_quotes else 0
            log.info("%s: encoding %s", path, MIXED)
            return TextSource(path, MIXED, quotes)
    error, quotes = _stream_error(path, chosen, '"' if count_quotes else None)
    if error is not None:
        hint = "" if encoding else "; pass the right one with --encoding"
        raise InputError(error + hint, path=str(path))
    log.info("%s: encoding %s", path, chosen)
    return TextSource(path, chosen, quotes)


def detect_delimiter(text: str, suffix: str) -> str:
    """Delimiter of delimited ``text`` among ``, ; TAB |``.

    Uses csv.Sniffer over the first 64 KB (whole lines only); when it cannot
    decide, falls back to TAB for ``.tsv``/``.tab`` files and ``,`` otherwise.

    >>> detect_delimiter("a|b\\n1|2\\n", ".csv")
    '|'
    >>> detect_delimiter("justonecolumn\\n", ".tsv")
    '\\t'
    """
    fallback = "\t" if suffix.lower() in (".tsv", ".tab") else ","
    sample = text[:SNIFF_BYTES]
    if len(text) > SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return _count_fallback(sample, fallback)
    header = sample.splitlines()[0] if sample else ""
    if found not in DELIMITERS or found not in header:
        return _count_fallback(sample, fallback)
    return found


def _count_fallback(sample: str, fallback: str) -> str:
    """Pick the candidate occurring most often in the header line, if any."""
    header = sample.splitlines()[0] if sample else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else fallback


def sniff_file(path: str | Path) -> FileInfo:
    """Detect a file's format, encoding and delimiter without collecting it.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "x.csv")
    >>> _ = open(p, "w", encoding="utf-8").write("id;text\\n1;hé\\n")
    >>> sniff_file(p)
    FileInfo(format='csv', encoding='utf-8', delimiter=';')
    """
    from .inputs import format_of

    path = Path(path)
    fmt = format_of(path)
    if fmt == "xlsx":
        return FileInfo(format=fmt)
    source = open_text(path)
    delimiter = detect_delimiter(source.head(SNIFF_BYTES + 1), path.suffix) if fmt == "csv" else None
    return FileInfo(format=fmt, encoding=source.encoding, delimiter=delimiter)
