"""Errors caused by the data on disk: one clear message naming the file(s), never a traceback.

Tools print these as one line (``rf_user_error``); ``skip_bad_pairs=True`` datasets leave the
samples that raise them out instead of stopping.
"""


class DataError(ValueError):
    """A sample whose files are unusable (unreadable, mismatched, too small, not binary)."""
    rf_user_error = True


class ImageReadError(DataError):
    """A file that cannot be read as an image (missing, truncated, not an image)."""


class MaskNotBinaryError(DataError):
    """A mask with many pixels that are neither black nor white."""
