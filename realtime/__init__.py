"""Real-time emotion recognition core: faces found by MediaPipe, classified by the ONNX model.

No torch here. Public API::

    from realtime import analyze, Analysis, Face, Stream, PipelineConfig, StreamConfig, ImageError
    result = analyze("photo.jpg")            # path, bytes, file object, PIL image or RGB array
    result.faces[0].emotion, result.to_dict(), result.draw()
    stream = Stream(); stream.process(rgb_frame); stream.reset()
"""
from .config import DEFAULT_DETECTOR, DETECTORS, PipelineConfig, StreamConfig
from .io import (
    CorruptImageError,
    EmptyImageError,
    ImageError,
    ImageTooLargeError,
    ImageTooSmallError,
    UnsupportedImageError,
    load_image,
)
from .pipeline import Analysis, Analyzer, Face, analyze, get_analyzer
from .stream import Stream

__all__ = [
    "Analysis", "Analyzer", "CorruptImageError", "DEFAULT_DETECTOR", "DETECTORS", "EmptyImageError", "Face",
    "ImageError", "ImageTooLargeError", "ImageTooSmallError", "PipelineConfig", "Stream", "StreamConfig",
    "UnsupportedImageError", "analyze", "get_analyzer", "load_image",
]
