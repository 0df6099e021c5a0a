"""Real-time emotion recognition core: faces found by MediaPipe, classified by the ONNX model.

No torch here.  The web layer (``portal/``) imports only the names in ``__all__`` (a rule of
tests/test_architecture.py).  Public API::

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
from . import contract
from .classifier import DEFAULT_MODEL, ModelError, load_classifier
from .config import detector_spec
from .detect import DetectorError
from .draw import encode
from .io import DEFAULT_MAX_PIXELS, DecodedImage
from .palette import PALETTE, UNCERTAIN, UNCERTAIN_RGB, color_for, hex_color
from .uncertainty import PROBABILITY_NOTE, label_for, uncertain_note
from .video import PRESET_CHOICES, PRESETS, VideoCancelled, VideoConfig, analyse_video
from .video_io import (ACCEPTED_SUFFIXES, CorruptVideoError, UnsupportedVideoError, VideoError, VideoLimits,
                       VideoTooLargeError, probe)
from .video_records import iter_timeline_csv, load_result, load_summary

__all__ = [
    # photos and frames
    "Analysis", "Analyzer", "CorruptImageError", "DEFAULT_DETECTOR", "DETECTORS", "EmptyImageError", "Face",
    "ImageError", "ImageTooLargeError", "ImageTooSmallError", "PipelineConfig", "Stream", "StreamConfig",
    "UnsupportedImageError", "analyze", "get_analyzer", "load_image", "DecodedImage", "DEFAULT_MAX_PIXELS",
    "detector_spec", "DetectorError", "encode",
    # the model: its contract (metadata), loading, what its probabilities mean
    "contract", "DEFAULT_MODEL", "ModelError", "load_classifier", "PROBABILITY_NOTE", "label_for", "uncertain_note",
    "PALETTE", "UNCERTAIN", "UNCERTAIN_RGB", "color_for", "hex_color",
    # videos
    "ACCEPTED_SUFFIXES", "CorruptVideoError", "PRESET_CHOICES", "PRESETS", "UnsupportedVideoError", "VideoCancelled",
    "VideoConfig", "VideoError", "VideoLimits", "VideoTooLargeError", "probe", "analyse_video", "iter_timeline_csv", "load_result", "load_summary",
]
