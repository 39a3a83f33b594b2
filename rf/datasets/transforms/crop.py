"""Cut every image of a sample to a size that is a multiple of a divisor (Raindrop: 16)."""
from typing import Sequence

from mmcv.transforms import BaseTransform

from rf.datasets.errors import DataError
from rf.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CropToMultiple(BaseTransform):
    """Crop the degraded image, the target and the mask to the largest height and width that
    are multiples of ``divisor``, keeping the top-left corner (the same pixels of each).

    Raindrop is evaluated on images cut to multiples of 16 (docs/design.md §3.1); use it in the test
    pipeline (and, harmlessly, before the training crop). An image smaller than ``divisor`` on
    a side is refused with its file name.

    Args:
        divisor: the multiple (16 for Raindrop).
        keys: the sample's images to crop (those present are cropped alike).
    """

    def __init__(self, divisor: int = 16, keys: Sequence[str] = ('degraded', 'gt', 'mask')):
        if int(divisor) < 1:
            raise ValueError(f'CropToMultiple: divisor must be a positive integer, got '
                             f'{divisor!r}.')
        self.divisor = int(divisor)
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        present = [key for key in self.keys if results.get(key) is not None]
        if not present:
            raise KeyError(f'CropToMultiple: the sample has none of {self.keys} (load them first '
                           'with LoadRestorationImages).')
        first = present[0]
        height, width = results[first].shape[:2]
        new_h, new_w = height - height % self.divisor, width - width % self.divisor
        if not (new_h and new_w):
            raise DataError(f'{results.get(f"{first}_path", first)} is {width}x{height} (W x H), '
                            f'smaller than {self.divisor} on a side: nothing is left after '
                            f'cutting it to a multiple of {self.divisor}.')
        for key in present:
            if results[key].shape[:2] != (height, width):
                raise DataError(f'{results.get(f"{first}_path", first)} and '
                                f'{results.get(f"{key}_path", key)} differ in size.')
            results[key] = results[key][:new_h, :new_w].copy()
        # The cut image is what gets restored and scored: it is the sample's size from here.
        results['img_shape'] = results['ori_shape'] = (new_h, new_w)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(divisor={self.divisor}, keys={self.keys})'
