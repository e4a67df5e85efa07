"""The training tool's loop, under the name chapter 13 imports: :mod:`resnet_book.trainer.loop`.

Taught in chapters/13-training-at-scale.ipynb.
"""

from resnet_book.trainer.loop import (
    STRATEGIES,
    distribution_strategy,
    is_chief,
    training_step,
)

__all__ = ["STRATEGIES", "distribution_strategy", "is_chief", "training_step"]
