"""A dossier rendered in parts, joined into one PDF (pypdf): the first part's document (its
metadata, outline and language kept), then every page of the continuation parts as they are,
each stamped with its page number, and every embedded font subset named uniquely.

The continuation parts are rendered without page numbers, since none of them can know how many
pages come before it until the parts before it are laid out. Their numbers are then drawn by
WeasyPrint too, on blank pages of the same size and margins (templates/numbers.html), and each
such page's content is laid over its page as a form XObject: the number is set in the shipped
face, exactly where and as a dossier rendered in one piece sets it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from typing import cast

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    PdfObject,
)

STAMP = "/SangKienPageNumber"  # the form's name in a stamped page's resources


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def join(first: bytes, rest: Sequence[bytes], numbers: Sequence[bytes]) -> bytes:
    """``first`` followed by the pages of every PDF of ``rest``, the n-th of those stamped with
    the n-th page of the PDFs of ``numbers`` (which must have as many pages, or more)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(first)))
    stamps = (page for pdf in numbers for page in PdfReader(io.BytesIO(pdf)).pages)
    # A stamped page's content: its own, in a saved graphics state (WeasyPrint leaves a
    # transformation set at its end), then the number's form. Shared by all stamped pages.
    begin = _stream(writer, b"q\n")
    end = _stream(writer, f"\nQ\n{STAMP} Do\n".encode())
    for pdf in rest:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            stamp = next(stamps, None)
            if stamp is None:
                raise ValueError("fewer page numbers than continuation pages")
            _stamp(writer, writer.add_page(page), stamp, begin, end)
    _retag_subsets(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stream(writer: PdfWriter, data: bytes) -> IndirectObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    # pypdf has no public call that adds an object and returns its reference.
    return writer._add_object(stream)


def _stamp(writer: PdfWriter, page: PageObject, number: PageObject, begin: IndirectObject, end: IndirectObject) -> None:
    form = DecodedStreamObject()
    form.set_data(number.get_contents().get_data())  # type: ignore[union-attr]  # WeasyPrint always writes one
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(FloatObject(x) for x in number.mediabox),
            # The number page's resources (its font, its graphics state), copied once: pypdf
            # maps an object it has already cloned to its copy.
            NameObject("/Resources"): number.raw_get("/Resources").clone(writer),
        }
    )
    form_ref = writer._add_object(form.flate_encode())
    # The part's pages share one resources dictionary; each stamped page gets its own copy,
    # the same but for its form.
    resources = DictionaryObject(cast(DictionaryObject, page["/Resources"].get_object()))
    xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    if STAMP in xobjects:
        raise ValueError(f"{STAMP} already names an XObject of the page")
    xobjects[NameObject(STAMP)] = form_ref
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    contents = page.raw_get("/Contents")
    own = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject([begin, *own, end])


def _fonts(resources: PdfObject, seen: set[int]) -> Iterator[DictionaryObject]:
    """Every font dictionary of a resources dictionary and of its forms, recursively."""
    res = resources.get_object()
    if not isinstance(res, DictionaryObject) or id(res) in seen:
        return
    seen.add(id(res))
    for ref in res.get("/Font", DictionaryObject()).get_object().values():
        yield ref.get_object()
    for ref in res.get("/XObject", DictionaryObject()).get_object().values():
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            yield from _fonts(xobject["/Resources"], seen)


def _retag_subsets(writer: PdfWriter) -> None:
    """Each part's WeasyPrint named its subsets alike ("ABCDEF+SangKien-Serif", the tag a hash
    of the face): joined, different subsets would share a name, which PDF forbids (a viewer may
    take one subset for the other). Every subset but the first of a name gets a fresh tag."""
    owner: dict[str, int] = {}  # tag -> the font program that has it
    renamed: dict[tuple[str, int], str] = {}
    seen: set[int] = set()
    for page in writer.pages:
        for font in _fonts(page["/Resources"], seen):
            parts = [font, *(d.get_object() for d in font.get("/DescendantFonts", ArrayObject()))]
            descriptors = [d["/FontDescriptor"].get_object() for d in parts if "/FontDescriptor" in d]
            programs = [d[k] for d in descriptors for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in d]
            if not programs or "+" not in str(font["/BaseFont"]):
                continue
            program = programs[0].get_object()
            key = id(program)
            tag = str(font["/BaseFont"]).lstrip("/").split("+", 1)[0]
            if owner.setdefault(tag, key) == key:
                continue
            new = renamed.get((tag, key))
            if new is None:
                new = _fresh_tag(tag, len(renamed), owner)
                owner[new] = key
                renamed[(tag, key)] = new
            for d in parts:
                d[NameObject("/BaseFont")] = NameObject(f"/{new}+{str(d['/BaseFont']).split('+', 1)[1]}")
            for d in descriptors:
                d[NameObject("/FontName")] = NameObject(f"/{new}+{str(d['/FontName']).split('+', 1)[1]}")


def _fresh_tag(tag: str, n: int, taken: dict[str, int]) -> str:
    # Six capital letters, as PDF wants a subset tag, derived from the old one: the same
    # dossier always comes out the same.
    while True:
        digest = hashlib.sha256(f"{tag}:{n}".encode()).digest()
        new = "".join(chr(65 + b % 26) for b in digest[:6])
        if new not in taken:
            return new
        n += 1
