"""The typeface the dossiers are set in, shipped in fonts/ beside this file.

Liberation Serif (SIL OFL 1.1, fonts/OFL.txt) has every Vietnamese letter precomposed and the
metrics of Times New Roman, the face Nghị định 30/2020/NĐ-CP asks for. The PDF embeds these
files (WeasyPrint loads them from the @font-face rules, never from the machine's fontconfig);
the DOCX names "Times New Roman", which Word has and LibreOffice replaces by this same face, so
both formats break their lines alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

FONTS_DIR = Path(__file__).resolve().parent / "fonts"

# The family name the CSS gives the shipped files. Deliberately not "Liberation Serif": a
# machine that has that family installed must not be able to satisfy the rule with its own copy.
CSS_FAMILY = "SangKien Serif"
DOCX_FAMILY = "Times New Roman"


@dataclass(frozen=True)
class Face:
    file: str
    weight: str  # CSS font-weight
    style: str  # CSS font-style

    @property
    def path(self) -> Path:
        return FONTS_DIR / self.file

    @property
    def uri(self) -> str:
        # as_uri() percent-encodes spaces and quotes: safe inside url("…") whatever the path.
        return self.path.as_uri()


FACES = (
    Face("LiberationSerif-Regular.ttf", "normal", "normal"),
    Face("LiberationSerif-Bold.ttf", "bold", "normal"),
    Face("LiberationSerif-Italic.ttf", "normal", "italic"),
    Face("LiberationSerif-BoldItalic.ttf", "bold", "italic"),
)


@cache
def _metrics(bold: bool) -> tuple[dict[int, str], dict[str, int], int]:
    font = TTFont(FACES[1 if bold else 0].path, lazy=True)
    hmtx = font["hmtx"]
    advances = {name: hmtx[name][0] for name in font.getGlyphOrder()}
    return font.getBestCmap(), advances, font["head"].unitsPerEm


def text_width_pt(text: str, size_pt: float, *, bold: bool = False) -> float:
    """Advance width of a line of text set in the shipped face (kerning ignored: a few tenths of
    a point on a line). The DOCX draws the rule under "Độc lập - Tự do - Hạnh phúc" as long as the
    line, as the decree asks, from this."""
    cmap, advances, upem = _metrics(bold)
    units = sum(advances.get(cmap.get(ord(ch), ".notdef"), 0) for ch in text)
    return units * size_pt / upem


@cache
def postscript_names() -> frozenset[str]:
    """The PostScript names of the shipped faces: what a PDF that embeds them calls its fonts."""
    return frozenset(str(TTFont(f.path, lazy=True)["name"].getDebugName(6)) for f in FACES)


@cache
def covered(bold: bool = False) -> frozenset[int]:
    """Code points the shipped face has a glyph for."""
    return frozenset(_metrics(bold)[0])
