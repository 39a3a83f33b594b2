"""The diffusion core: schedule tables (the truncated schedule is one), the resnoise process, the
sequence of steps a sampler walks, and the sampler."""
from rf.diffusion.process import (
                                  TARGETS,
                                  convert_target,
                                  q_sample,
                                  resnoise,
                                  resnoise_to_x0,
                                  start_point,
                                  training_target,
                                  x0_to_resnoise,
)
from rf.diffusion.sampler import ResfusionSampler
from rf.diffusion.schedule_table import ScheduleTable
from rf.diffusion.step_sequence import StepSequence
from rf.diffusion.truncated_schedule import TruncatedSchedule

__all__ = [
    'TARGETS', 'ScheduleTable', 'StepSequence', 'TruncatedSchedule', 'ResfusionSampler',
    'q_sample', 'resnoise', 'training_target',
    'convert_target', 'resnoise_to_x0', 'x0_to_resnoise', 'start_point',
]
