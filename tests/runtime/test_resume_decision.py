"""What a training resumes from: --resume as asked, and after an elastic restart (torchrun's
TORCHELASTIC_RESTART_COUNT > 0) the work dir's last checkpoint without being asked."""
import pytest

from rf.engine.resume import decide_resume, elastic_restart_count


@pytest.fixture
def work_dir(tmp_path, monkeypatch):
    monkeypatch.delenv('TORCHELASTIC_RESTART_COUNT', raising=False)
    monkeypatch.delenv('TORCHELASTIC_MAX_RESTARTS', raising=False)
    return tmp_path


def save(work_dir, name):
    (work_dir / name).write_bytes(b'x')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / name))
    return str(work_dir / name)


def test_outside_elastic_mode_resume_is_what_was_asked(work_dir):
    assert elastic_restart_count() == 0
    assert decide_resume(str(work_dir), None) == (None, None)
    checkpoint, note = decide_resume(str(work_dir), 'auto')
    assert checkpoint is None and note.startswith('--resume: no checkpoint in')
    last = save(work_dir, 'iter_4.pth')
    assert decide_resume(str(work_dir), 'auto') == (last, None)
    assert decide_resume(str(work_dir), None) == (None, None)
    given = '/pretrained/iter_9.pth'
    assert decide_resume(str(work_dir), given) == (given, None)


def test_a_restarted_worker_resumes_from_the_last_checkpoint_unasked(work_dir, monkeypatch):
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '2')
    checkpoint, note = decide_resume(str(work_dir), None)
    assert checkpoint is None
    assert note == f'elastic restart 2: no checkpoint in {work_dir} yet; training from scratch.'
    checkpoint, note = decide_resume(str(work_dir), '/old/iter_9.pth')
    assert checkpoint == '/old/iter_9.pth' and 'as the first attempt did' in note
    last = save(work_dir, 'iter_6.pth')
    for requested in (None, 'auto', '/old/iter_9.pth'):
        checkpoint, note = decide_resume(str(work_dir), requested)
        assert checkpoint == last
        assert note.startswith(f'elastic restart 2: resuming from {last}, the last complete')


def test_a_first_attempt_warns_of_an_earlier_runs_checkpoint(work_dir, monkeypatch):
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '0')
    monkeypatch.setenv('TORCHELASTIC_MAX_RESTARTS', '3')
    assert decide_resume(str(work_dir), None) == (None, None)
    last = save(work_dir, 'iter_2.pth')
    checkpoint, note = decide_resume(str(work_dir), None)
    assert checkpoint is None and note.startswith('warning:') and last in note
    assert decide_resume(str(work_dir), 'auto') == (last, None)
