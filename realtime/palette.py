"""One colour per emotion, shared by the annotated image, the PDF and the web page.

    color_for("happy")   # (245, 195, 0): boxes, bars and the PDF chart (RGB)
    text_color("happy")  # a darker shade of the same hue, readable on white (web page text)
    css_rules()          # the ``.emo-<name>`` rules in portal/web/static/style.css (a test keeps them equal)
    color_for(UNCERTAIN) # a slate gray for faces marked uncertain (realtime/uncertainty.py), apart from neutral's

Any other class name (a model with other classes) gets a stable fallback colour, never an error.
"""
from __future__ import annotations

import colorsys
import zlib

RGB = tuple[int, int, int]

PALETTE: dict[str, RGB] = {
    "angry": (230, 45, 45),
    "disgust": (70, 170, 60),
    "fear": (155, 85, 215),
    "happy": (245, 195, 0),
    "sad": (50, 115, 230),
    "surprise": (255, 135, 20),
    "neutral": (165, 165, 165),
}
#: faces whose answer is doubtful: drawn (dashed) and listed in this colour, never in their top class's
UNCERTAIN = "uncertain"
UNCERTAIN_RGB: RGB = (84, 96, 122)
#: WCAG AA contrast for normal text on white
TEXT_CONTRAST = 4.5


def color_for(emotion: str) -> RGB:
    """The emotion's colour; unknown names get a stable (same in every process) saturated colour."""
    if emotion in PALETTE:
        return PALETTE[emotion]
    if emotion == UNCERTAIN:
        return UNCERTAIN_RGB
    hue = (zlib.crc32(str(emotion).encode("utf-8")) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.78, 0.9)
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def _luminance(rgb: RGB) -> float:
    def lin(c: int) -> float:
        c = c / 255.0
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_on_white(rgb: RGB) -> float:
    return 1.05 / (_luminance(rgb) + 0.05)


def text_color(emotion: str) -> RGB:
    """The emotion's colour darkened (same hue) until it reads on white (contrast >= 4.5)."""
    rgb = color_for(emotion)
    factor = 1.0
    while contrast_on_white(rgb) < TEXT_CONTRAST:
        factor -= 0.02
        rgb = tuple(int(round(c * factor)) for c in color_for(emotion))
    return rgb


def hex_color(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def css_rules() -> str:
    """``.emo-<name> { color: #...; }`` for every emotion of the palette and "uncertain", one per line."""
    return "\n".join(f".emo-{name} {{ color: {hex_color(text_color(name))}; }}" for name in (*PALETTE, UNCERTAIN))
