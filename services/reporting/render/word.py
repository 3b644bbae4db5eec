"""The DOCX: the same content as the PDF, written with python-docx.

python-docx's object API costs tens of microseconds per cell and paragraph (table.add_row, then
cell.text, then formatting, each walking the XML tree), which is seconds for a 1,000-row table.
So the blocks are written as WordprocessingML text, escaped here, and parsed by lxml in one call
per block; python-docx keeps the package, the styles, the sections and the page-number header.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.section import Section
from docx.shared import Mm

from services.reporting.render import content, fonts
from services.reporting.render.content import HEAD_SIZE, HEAD_SPLIT, LANDSCAPE, PORTRAIT, PT_PER_MM
from shared.contracts.dossier import Dossier

TWIPS_PER_MM = 1440 / 25.4
NS = nsdecls("w")


def _tw(mm: float) -> int:
    return round(mm * TWIPS_PER_MM)


def _pt(points: float) -> int:  # spacing and borders are in twentieths of a point
    return round(points * 20)


def _run(text: str, *, bold: bool = False, italic: bool = False, size: float | None = None) -> str:
    rpr = ("<w:b/><w:bCs/>" if bold else "") + ("<w:i/><w:iCs/>" if italic else "")
    if size:
        rpr += f'<w:sz w:val="{round(size * 2)}"/><w:szCs w:val="{round(size * 2)}"/>'
    rpr = f"<w:rPr>{rpr}</w:rPr>" if rpr else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _p(
    runs: str,
    *,
    align: str = "center",
    before: float = 0,
    after: float = 0,
    line: int | None = None,
    first_line_mm: float = 0,
    side_mm: float = 0,
    rule: str | None = None,
    exact_pt: float | None = None,
    keep_next: bool = False,
) -> str:
    """A paragraph; ``rule`` draws a border ("top" or "bottom") between its indents, which is how
    the decree's short lines under a name are drawn in Word."""
    ppr = "<w:keepNext/>" if keep_next else ""
    if rule:
        ppr += f'<w:pBdr><w:{rule} w:val="single" w:sz="6" w:space="1" w:color="000000"/></w:pBdr>'
    spacing = f'w:before="{_pt(before)}" w:after="{_pt(after)}"'
    if exact_pt is not None:
        spacing += f' w:line="{_pt(exact_pt)}" w:lineRule="exact"'
    elif line:
        spacing += f' w:line="{line}" w:lineRule="auto"'
    ppr += f"<w:spacing {spacing}/>"
    if first_line_mm or side_mm:
        ppr += f'<w:ind w:left="{_tw(side_mm)}" w:right="{_tw(side_mm)}" w:firstLine="{_tw(first_line_mm)}"/>'
    ppr += f'<w:jc w:val="{align}"/>'
    return f"<w:p><w:pPr>{ppr}</w:pPr>{runs}</w:p>"


def _rule(box_mm: float, length_pt: float) -> str:
    """A line ``length_pt`` long, centred in a box ``box_mm`` wide: an empty paragraph three
    points high whose bottom border runs between its indents. (A top border would be drawn
    over the line above: Word puts it inside the previous paragraph's descent.)"""
    side = max((box_mm - length_pt / PT_PER_MM) / 2, 0)
    return _p("", rule="bottom", exact_pt=3, side_mm=side)


def _cell(width: int, body: str, *, v_center: bool = False) -> str:
    valign = '<w:vAlign w:val="center"/>' if v_center else ""
    return f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{valign}</w:tcPr>{body or "<w:p/>"}</w:tc>'


def _table(widths: list[int], rows: list[str], *, borders: bool, margins: tuple[int, int] = (0, 0)) -> str:
    edge = '<w:{0} w:val="single" w:sz="6" w:space="0" w:color="000000"/>'  # ¾ pt, as the PDF's
    none = '<w:{0} w:val="nil"/>'
    cell_border = edge if borders else none
    tbl_borders = "".join(cell_border.format(e) for e in ("top", "left", "bottom", "right", "insideH", "insideV"))
    vertical, horizontal = margins
    return (
        f"<w:tbl {NS}><w:tblPr>"
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblBorders>{tbl_borders}</w:tblBorders>'
        '<w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:top w:w="{vertical}" w:type="dxa"/><w:left w:w="{horizontal}" w:type="dxa"/>'
        f'<w:bottom w:w="{vertical}" w:type="dxa"/><w:right w:w="{horizontal}" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
        'w:noHBand="1" w:noVBand="1"/>'
        "</w:tblPr><w:tblGrid>"
        + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
        + "</w:tblGrid>"
        + "".join(rows)
        + "</w:tbl>"
    )


def _append(doc: DocumentObject, xml: str) -> None:
    # Before the body's final w:sectPr, which must stay the body's last child.
    body = doc.element.body
    el = parse_xml(xml if xml.startswith("<w:tbl") else f"<w:body {NS}>{xml}</w:body>")
    items = [el] if el.tag == qn("w:tbl") else list(el)
    anchor = body.sectPr
    for item in items:
        if anchor is not None:
            anchor.addprevious(item)
        else:
            body.append(item)


def _signature(c: content.Content, size: float) -> str:
    out = "".join(_p(_run(s, bold=True, size=size), keep_next=True) for s in c.signer)
    return out + _p(_run(c.signer_name, bold=True, size=size), before=62)  # ≈ 22 mm to sign in


def _to_trinh(doc: DocumentObject, c: content.Content) -> None:
    width = content.TEXT_WIDTH_MM
    left_mm = width * HEAD_SPLIT
    right_mm = width - left_mm
    left, right = _tw(left_mm), _tw(right_mm)
    issuer = "".join(_p(_run(line, size=HEAD_SIZE)) for line in c.superior)
    issuer += "".join(_p(_run(line, bold=True, size=HEAD_SIZE)) for line in c.unit)
    issuer += _rule(left_mm, c.unit_rule_pt)
    # The decree's rule under the motto is as long as the motto: measured in the shipped face,
    # whose metrics are Times New Roman's, with a little slack each side against wrapping.
    motto_mm = fonts.text_width_pt(content.MOTTO, 13, bold=True) / PT_PER_MM
    motto_side = max((right_mm - motto_mm) / 2 - 0.4, 0)
    nation = _p(_run(content.NATION, bold=True, size=HEAD_SIZE)) + _p(
        _run(content.MOTTO, bold=True, size=13), rule="bottom", side_mm=motto_side
    )
    rows = [
        f"<w:tr>{_cell(left, issuer)}{_cell(right, nation)}</w:tr>",
        f"<w:tr>{_cell(left, _p(_run(c.number_symbol, size=13), before=5))}"
        f"{_cell(right, _p(_run(c.place_date, italic=True, size=14), before=5))}</w:tr>",
    ]
    _append(doc, _table([left, right], rows, borders=False))
    body = _p(_run(content.DOC_KIND, bold=True), before=24, keep_next=True)
    body += "".join(_p(_run(line, bold=True), keep_next=True) for line in c.subject)
    body += _rule(width, c.subject_rule_pt)
    body += _p(_run("Kính gửi: ") + _run(c.recipient), before=12, after=12)
    for text in c.paragraphs:
        # 1.15 lines: Word's single line of Times New Roman is 1.15 em, so this is the PDF's 1.35.
        body += _p(_run(text), align="both", after=6, line=276, first_line_mm=12.7)
    _append(doc, body + _p("", before=6))
    left, right = _tw(width * 0.48), _tw(width * 0.52)
    receivers = _p(_run("Nơi nhận:", bold=True, italic=True, size=12), align="left")
    receivers += "".join(_p(_run(r, size=11), align="left") for r in c.receivers)
    foot = f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{_cell(left, receivers)}{_cell(right, _signature(c, 14))}</w:tr>"
    _append(doc, _table([left, right], [foot], borders=False))


def _bang(doc: DocumentObject, c: content.Content) -> None:
    width = LANDSCAPE["width"] - LANDSCAPE["left"] - LANDSCAPE["right"]
    total = sum(content.COLUMN_WIDTHS)
    widths = [_tw(width * w / total) for w in content.COLUMN_WIDTHS]
    _append(
        doc,
        _p(_run(content.TABLE_TITLE, bold=True), keep_next=True)
        + _p(_run(c.table_note, italic=True, size=13), before=2, after=10, keep_next=True),
    )
    head_cells = "".join(
        _cell(w, _p(_run(h, bold=True, size=11)), v_center=True) for w, h in zip(widths, c.headers, strict=True)
    )
    # w:tblHeader repeats the row at the top of every page the table runs onto.
    rows = [f"<w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>{head_cells}</w:tr>"]
    small = 11.0
    for r in c.rows:
        cells = [_cell(widths[0], _p(_run(str(r.number), size=small)))]
        for w, cell in zip(widths[1:], r.cells, strict=True):
            paras = "".join(
                _p(
                    _run(line, bold=cell.first_bold and i == 0, italic=cell.note, size=small),
                    align="left",
                )
                for i, line in enumerate(cell.lines)
            )
            cells.append(_cell(w, paras))
        rows.append(f"<w:tr>{''.join(cells)}</w:tr>")
    _append(doc, _table(widths, rows, borders=True, margins=(_pt(2), _pt(3))))
    left = _tw(width * 0.55)
    right = sum(widths) - left
    end = f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{_cell(left, '')}{_cell(right, _signature(c, 13))}</w:tr>"
    _append(doc, _p("", before=8))
    _append(doc, _table([left, right], [end], borders=False))


def _defaults(doc: DocumentObject) -> None:
    """Times New Roman 14 pt, Vietnamese, no paragraph spacing, for everything: the template's
    theme fonts (Calibri) would otherwise win over a plain font name."""
    styles = doc.styles.element
    fonts_xml = (
        f'<w:rFonts {NS} w:ascii="{fonts.DOCX_FAMILY}" w:hAnsi="{fonts.DOCX_FAMILY}" '
        f'w:cs="{fonts.DOCX_FAMILY}" w:eastAsia="{fonts.DOCX_FAMILY}"/>'
    )
    rpr = styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    ppr = styles.find(f"{qn('w:docDefaults')}/{qn('w:pPrDefault')}/{qn('w:pPr')}")
    if rpr is None or ppr is None:  # the default template has both; a changed one must too
        raise RuntimeError("python-docx's default template has no docDefaults")
    for child in list(rpr):
        rpr.remove(child)
    for xml in (
        fonts_xml,
        f'<w:sz {NS} w:val="28"/>',
        f'<w:szCs {NS} w:val="28"/>',
        f'<w:lang {NS} w:val="vi-VN" w:eastAsia="vi-VN" w:bidi="ar-SA"/>',
    ):
        rpr.append(parse_xml(xml))
    for child in list(ppr):
        ppr.remove(child)
    ppr.append(parse_xml(f'<w:spacing {NS} w:after="0" w:line="240" w:lineRule="auto"/>'))


def _page(section: Section, geometry: dict[str, int], orient: WD_ORIENT) -> None:
    section.orientation = orient
    section.page_width, section.page_height = Mm(geometry["width"]), Mm(geometry["height"])
    section.top_margin, section.bottom_margin = Mm(geometry["top"]), Mm(geometry["bottom"])
    section.left_margin, section.right_margin = Mm(geometry["left"]), Mm(geometry["right"])
    section.header_distance = Mm(10)


def render_docx(d: Dossier) -> bytes:
    """The Tờ trình (portrait section) and the Bảng tổng hợp (landscape section) as a DOCX."""
    c = content.build(d)
    doc = Document()
    _defaults(doc)
    doc.core_properties.title = c.title
    doc.core_properties.language = "vi-VN"
    first = doc.sections[0]
    _page(first, PORTRAIT, WD_ORIENT.PORTRAIT)
    # Page numbers at the top centre from the second page on (the decree's place for them).
    first.different_first_page_header_footer = True
    header = first.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    header._p.append(parse_xml(f'<w:fldSimple {NS} w:instr="PAGE"><w:r><w:t>2</w:t></w:r></w:fldSimple>'))
    _to_trinh(doc, c)
    landscape = doc.add_section(WD_SECTION.NEW_PAGE)
    # add_section ends the portrait section with an empty paragraph: a point high, so that it
    # never pushes the signature block onto a page of its own.
    brk = doc.element.body.sectPr.getprevious()
    if brk is not None and brk.tag == qn("w:p"):
        brk.get_or_add_pPr().insert(
            0, parse_xml(f'<w:spacing {NS} w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>')
        )
    _page(landscape, LANDSCAPE, WD_ORIENT.LANDSCAPE)
    landscape.different_first_page_header_footer = False
    _bang(doc, c)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
