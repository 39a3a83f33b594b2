"""Reading images as 8-bit RGB through mmcv, with one clear error per bad file."""
import os
import warnings

import numpy as np

from rf.datasets.errors import ImageReadError, MaskNotBinaryError

__all__ = ['IMAGE_EXTENSIONS', 'ImageReadError', 'LossyConversionWarning', 'MaskNotBinaryError',
           'is_image_file', 'read_grey', 'read_mask', 'read_rgb', 'to_rgb8', 'write_rgb']

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')


class LossyConversionWarning(UserWarning):
    """An image was converted to 8-bit RGB with loss (16-bit depth or an alpha channel dropped)."""


def is_image_file(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _decode(path: str) -> np.ndarray:
    import mmcv  # mmcv-lite: image I/O only
    try:
        with open(path, 'rb') as handle:
            content = handle.read()
    except OSError as error:
        raise ImageReadError(f'Cannot read image file {path}: {error.strerror or error}.') from None
    if not content:
        raise ImageReadError(f'Cannot read image file {path}: the file is empty.')
    if content[:2] == b'\xff\xd8' and content.rfind(b'\xff\xd9') < content.rfind(b'\xff\xda'):
        # OpenCV decodes a JPEG that lost its last bytes without complaint (end marker gone).
        raise ImageReadError(f'Cannot decode image file {path}: a truncated JPEG (no end '
                             'marker after the image data).')
    try:
        # 'unchanged' keeps depth and alpha; mmcv then leaves OpenCV's BGR(A) order as it is.
        image = mmcv.imfrombytes(content, flag='unchanged', backend='cv2')
    except Exception as error:  # cv2 raises several kinds on corrupt data
        raise ImageReadError(f'Cannot decode image file {path}: {error}.') from None
    if image is None:
        raise ImageReadError(f'Cannot decode image file {path}: not an image, or a truncated one.')
    if image.ndim == 3 and image.shape[2] in (3, 4):
        image = image[..., [2, 1, 0, 3][:image.shape[2]]]  # BGR(A) -> RGB(A)
    return image


def _opaque_value(dtype) -> float:
    """The alpha of a fully opaque pixel at ``dtype``'s depth (1.0 for float images)."""
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def to_rgb8(image: np.ndarray, source: str = 'image') -> np.ndarray:
    """Grayscale, RGBA and 16-bit images -> (H, W, 3) uint8 RGB; warns when that loses data."""
    lossy = []
    # Translucency is judged at the file's own depth: 16-bit alpha 65531 rounds to 255 in 8 bits
    # but is still not opaque.
    translucent = (image.ndim == 3 and image.shape[2] in (2, 4)
                   and image[..., -1].min() < _opaque_value(image.dtype))
    if image.dtype == np.uint16:
        image = np.round(image.astype(np.float64) / 257).astype(np.uint8)
        lossy.append('16-bit -> 8-bit')
    elif image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating):
            lossy.append(f'{image.dtype} -> 8-bit')
            image = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
        else:
            raise ImageReadError(f'{source}: unsupported pixel type {image.dtype}.')
    if image.ndim == 2:
        image = image[..., None]
    channels = image.shape[2]
    if channels == 1:
        image = np.repeat(image, 3, axis=2)
    elif channels == 4:
        image = image[..., :3]
    elif channels == 2:  # gray + alpha
        image = np.repeat(image[..., :1], 3, axis=2)
    elif channels != 3:
        raise ImageReadError(f'{source}: unsupported number of channels ({channels}).')
    if translucent:
        lossy.append('alpha channel dropped')
    if lossy:
        warnings.warn(f'{source}: converted to 8-bit RGB ({", ".join(lossy)}).',
                      LossyConversionWarning, stacklevel=3)
    return np.ascontiguousarray(image)


def read_rgb(path: str) -> np.ndarray:
    """Read ``path`` as an (H, W, 3) uint8 RGB array."""
    return to_rgb8(_decode(path), source=path)


def read_grey(path: str) -> np.ndarray:
    """Read ``path`` as (H, W) uint8 grey with its values kept (scoring masks: the protocols
    decide what counts as shadow); colour files are converted, 16-bit ones shifted to 8 bits."""
    import mmcv
    image = _decode(path)
    if image.ndim == 3:
        image = image[..., 0] if image.shape[2] < 3 else mmcv.bgr2gray(image[..., :3])
    if image.dtype == np.uint16:
        image = (image.astype(np.uint32) >> 8).astype(np.uint8)
    return image.astype(np.uint8)


def read_mask(path: str, tolerance: float = 0.125, max_ambiguous: float = 0.01) -> np.ndarray:
    """Read a binary mask as (H, W) uint8 in {0, 1}.

    Pixels within ``tolerance`` (a fraction of the full range) of black or white count as 0 or 1,
    which absorbs JPEG noise and anti-aliased edges; a mask with more than ``max_ambiguous`` of
    its pixels in between is refused with :class:`MaskNotBinaryError`.
    """
    image = _decode(path)
    if image.ndim == 3:
        if image.shape[2] >= 3 and not (np.array_equal(image[..., 0], image[..., 1])
                                         and np.array_equal(image[..., 0], image[..., 2])):
            raise MaskNotBinaryError(f'Mask {path} is a colour image; a mask must be black and '
                                     'white.')
        image = image[..., 0]
    full = 65535.0 if image.dtype == np.uint16 else 255.0
    values = image.astype(np.float32) / full
    ambiguous = float(np.mean((values > tolerance) & (values < 1 - tolerance)))
    if ambiguous > max_ambiguous:
        raise MaskNotBinaryError(
            f'Mask {path} is not binary: {ambiguous:.1%} of its pixels are neither near black '
            f'nor near white (at most {max_ambiguous:.1%} allowed).')
    return (values > 0.5).astype(np.uint8)


def write_rgb(image: np.ndarray, path: str) -> None:
    """Write an (H, W, 3) uint8 RGB array, creating the parent folder."""
    import mmcv
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if not mmcv.imwrite(np.ascontiguousarray(image[..., ::-1]), path):
        raise OSError(f'Cannot write image file {path}.')
