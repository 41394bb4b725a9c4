"""N_z = Z [SEP] F [SEP] P [SEP], keeping where each part sits."""

from __future__ import annotations

from schemas.description import Face, OcrResult, Segment


def compose(caption: str, faces: tuple[Face, ...], ocr: OcrResult, sep: str) -> tuple[str, tuple[Segment, ...]]:
    """The visual context and the character offsets (end exclusive) of the caption, each face and the OCR text.

    Faces are joined by '; ' inside F; OCR lines by ' / ' (newlines would be lost by tokenizers anyway).
    """
    pieces: list[str] = []
    segments: list[Segment] = []
    cursor = 0

    def add(text: str, name: str, index: int = 0) -> None:
        nonlocal cursor
        if text:
            segments.append(Segment(name=name, start=cursor, end=cursor + len(text), index=index))  # type: ignore[arg-type]
            pieces.append(text)
            cursor += len(text)

    def literal(text: str) -> None:
        nonlocal cursor
        pieces.append(text)
        cursor += len(text)

    add(caption, "caption")
    literal(f" {sep} ")
    for i, face in enumerate(faces):
        if i:
            literal("; ")
        add(face.text, "face", i)
    literal(f" {sep} ")
    add(" / ".join(line.text for line in ocr.lines), "ocr")
    literal(f" {sep}")
    return "".join(pieces), tuple(segments)
