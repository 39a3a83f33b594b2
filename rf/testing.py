"""The backbone contract rf relies on, as one call for plugin authors' tests.

    from rf.testing import check_backbone

    def test_my_backbone_keeps_rf_contract():
        check_backbone(MyNet, width=16)

A backbone is called as ``backbone(fused_input, t)`` with the fused input (B, in_channels, H, W)
and the 0-based step index ``t`` of shape (B,), and returns (B, out_channels, H, W). The checks:
every size in ``sizes`` (odd ones by default) gives an output of the input's size; the step
changes the output, and each sample of a batch gets its own step; gradients reach the
parameters; a wrong number of input channels is refused with a ``ValueError`` that names the
expected count. A failed check raises ``AssertionError`` saying which part of the contract broke.
"""
from typing import Callable, Iterable, Sequence, Tuple

import torch

Size = Tuple[int, int]


def _build(backbone, in_channels: int, out_channels: int, kwargs: dict) -> torch.nn.Module:
    torch.manual_seed(0)
    return backbone(in_channels=in_channels, out_channels=out_channels, **kwargs)


def check_sizes(net: torch.nn.Module, in_channels: int, out_channels: int,
                sizes: Iterable[Size]) -> None:
    """Every (H, W) in ``sizes`` comes back at that size, finite."""
    for height, width in sizes:
        x = torch.randn(2, in_channels, height, width)
        with torch.no_grad():
            out = net(x, torch.tensor([0, 1]))
        assert tuple(out.shape) == (2, out_channels, height, width), (
            f'{type(net).__name__}: a (2, {in_channels}, {height}, {width}) input gave an output '
            f'of shape {tuple(out.shape)}, expected (2, {out_channels}, {height}, {width}).')
        assert torch.isfinite(out).all(), (
            f'{type(net).__name__}: non-finite output at size {height}x{width}.')


def check_step_sensitivity(net: torch.nn.Module, in_channels: int, size: Size,
                           steps: Sequence[int]) -> None:
    """The step changes the output, and in a batch each sample is computed at its own step."""
    early, late = steps
    x = torch.randn(2, in_channels, *size)
    with torch.no_grad():
        a = net(x, torch.tensor([early, early]))
        b = net(x, torch.tensor([late, late]))
        mixed = net(x, torch.tensor([early, late]))
    name = type(net).__name__
    assert (a - b).abs().max() > 1e-6, (
        f'{name}: steps {early} and {late} give the same output; the step must reach the output '
        '(a time embedding that conditions the blocks).')
    torch.testing.assert_close(mixed[0], a[0], msg=lambda m: f'{name}: in a batch with mixed '
                               f'steps, sample 0 is not computed at its own step: {m}')
    torch.testing.assert_close(mixed[1], b[1], msg=lambda m: f'{name}: in a batch with mixed '
                               f'steps, sample 1 is not computed at its own step: {m}')


def check_backward(net: torch.nn.Module, in_channels: int, size: Size,
                   unused: Sequence[str] = ()) -> None:
    """A loss on the output gives every trainable parameter (but those named in ``unused``) a
    finite gradient."""
    net.train()
    net.zero_grad(set_to_none=True)
    net(torch.randn(2, in_channels, *size), torch.tensor([1, 2])).square().mean().backward()
    missing = [name for name, p in net.named_parameters()
               if p.requires_grad and p.grad is None and name not in unused]
    assert not missing, (f'{type(net).__name__}: no gradient reaches {missing[:5]}'
                         f'{" ..." if len(missing) > 5 else ""}.')
    bad = [name for name, p in net.named_parameters()
           if p.grad is not None and not torch.isfinite(p.grad).all()]
    assert not bad, f'{type(net).__name__}: non-finite gradients in {bad[:5]}.'
    net.eval()


def check_channel_error(net: torch.nn.Module, in_channels: int, size: Size) -> None:
    """An input with the wrong number of channels raises ``ValueError`` naming the right one."""
    wrong = in_channels + 2
    try:
        with torch.no_grad():
            net(torch.randn(1, wrong, *size), torch.tensor([0]))
    except ValueError as error:
        assert str(in_channels) in str(error), (
            f'{type(net).__name__}: the error for a {wrong}-channel input does not name the '
            f'expected {in_channels} channels: {error}')
        return
    except Exception as error:  # noqa: BLE001 - any other failure breaks the contract
        raise AssertionError(
            f'{type(net).__name__}: a {wrong}-channel input raised {type(error).__name__} '
            f'({error}); the contract is a ValueError that names in_channels={in_channels} '
            '(usually a mismatched fuser).') from error
    raise AssertionError(f'{type(net).__name__}: a {wrong}-channel input was accepted; it must '
                         f'be refused with a ValueError naming in_channels={in_channels}.')


def check_backbone(backbone: Callable[..., torch.nn.Module], *, in_channels: int = 6,
                   out_channels: int = 3, sizes: Sequence[Size] = ((13, 22), (32, 32)),
                   steps: Sequence[int] = (0, 4), unused_parameters: Sequence[str] = (),
                   **kwargs) -> torch.nn.Module:
    """Check that ``backbone(in_channels=..., out_channels=..., **kwargs)`` (a class or any
    factory) keeps the contract above; returns the network it built.

    Args:
        sizes: input sizes it must handle (a backbone that only takes multiples of its stride
            passes such sizes and refuses others itself).
        steps: two 0-based steps whose outputs must differ.
        unused_parameters: names of parameters that legitimately get no gradient.
    """
    net = _build(backbone, in_channels, out_channels, kwargs).eval()
    check_sizes(net, in_channels, out_channels, sizes)
    check_step_sensitivity(net, in_channels, sizes[-1], steps)
    check_channel_error(net, in_channels, sizes[-1])
    check_backward(net, in_channels, sizes[-1], unused_parameters)
    return net
