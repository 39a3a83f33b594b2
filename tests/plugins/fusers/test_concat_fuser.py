"""The concat fuser: order x_t, condition, mask; the ISTD mask encoding."""
import pytest
import torch

from rf.registry import FUSERS


def test_concat_order_and_channels():
    fuser = FUSERS.build(dict(type='concat'))
    x_t, cond, mask = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4), torch.full((2, 1, 4, 4), 7.)
    out = fuser(x_t, cond, mask)
    assert out.shape == (2, 7, 4, 4) and fuser.fused_channels(3, 3, 1) == 7
    assert out[:, :3].eq(0).all() and out[:, 3:6].eq(1).all() and out[:, 6:].eq(7).all()
    assert fuser(x_t).shape == (2, 3, 4, 4)  # no condition (generation, translation)


def test_shadow_mask_becomes_two_signed_channels():
    fuser = FUSERS.build(dict(type='concat', mask_encoding='shadow_onehot'))
    mask = torch.tensor([[[[0, 255], [128, 255]]]], dtype=torch.uint8)
    out = fuser(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2), mask)
    assert out.shape == (1, 8, 2, 2) and fuser.fused_channels(3, 3, 1) == 8
    shadow = torch.tensor([[-1., 1.], [-1., 1.]])  # only 255 counts as shadow
    torch.testing.assert_close(out[0, 7], shadow)
    torch.testing.assert_close(out[0, 6], -shadow)


def test_mismatched_sizes_and_bad_options_are_clear_errors():
    fuser = FUSERS.build(dict(type='concat'))
    with pytest.raises(ValueError, match='condition'):
        fuser(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match='the mask has shape'):  # named, without a condition
        fuser(torch.zeros(1, 3, 4, 4), None, torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match='mask_encoding'):
        FUSERS.build(dict(type='concat', mask_encoding='rgb'))


def test_restore_image_masks_become_0_255_or_are_refused():
    """rf.inference.restore_image takes the mask as users have it (bool, 0/1 or the files'
    0/255) and hands the fuser 0/255, which it tests with == 255."""
    import numpy as np

    from rf.inference import shadow_mask_255
    expected = np.array([[0, 255], [255, 0]], np.uint8)
    for mask in (expected, expected > 0, (expected > 0).astype(np.int64)):
        np.testing.assert_array_equal(shadow_mask_255(mask), expected)
    with pytest.raises(ValueError, match='binary'):
        shadow_mask_255(np.array([[0, 128], [255, 0]], np.uint8))
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        shadow_mask_255(np.zeros((1, 2, 2), np.uint8))
