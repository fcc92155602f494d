"""ImageProcessor: uploads -> validated, resized, filtered renditions, status and notifications.

The package, by the parts of the architecture: ``props`` (every prop, its default and checks),
``storage`` (key, buckets, status table, topics), ``functions`` (the Lambda handlers and their
permissions), ``workflow`` (the state machine definition), ``state_machine`` (the machine and the upload
trigger), ``monitoring`` (alarms, dashboard), ``grants`` (what others may be allowed), ``processor`` (the
construct, wiring the parts).
"""

from refarch.constructs.image_processor.processor import ImageProcessor
from refarch.constructs.image_processor.props import (
    DEFAULT_RENDITIONS,
    FILTERS,
    INPUT_FORMATS,
    OUTPUT_FORMATS,
    ImageProcessorProps,
    ImageRendition,
)

__all__ = [
    "DEFAULT_RENDITIONS",
    "FILTERS",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "ImageProcessor",
    "ImageProcessorProps",
    "ImageRendition",
]
