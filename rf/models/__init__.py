"""rf's models: the Resfusion model, its data preprocessor and the losses it can use."""
from rf.models.data_preprocessor import RestorationDataPreprocessor
from rf.models.losses import L1Loss, MSELoss
from rf.models.resfusion import Resfusion

__all__ = ['Resfusion', 'RestorationDataPreprocessor', 'MSELoss', 'L1Loss']
