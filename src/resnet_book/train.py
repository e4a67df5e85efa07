"""``python -m resnet_book.train``: the training tool's command (:mod:`resnet_book.trainer`).

The tool lives in the sub-package :mod:`resnet_book.trainer`; this module keeps the command's
name and the functions chapter 13 calls, whose recipe is a dictionary there.

Taught in chapters/13-training-at-scale.ipynb.
"""

import sys

from resnet_book.trainer import networks, recipe
from resnet_book.trainer.command import build_parser, main

__all__ = ["build_model", "build_parser", "main", "make_recipe"]


def make_recipe(args, replicas, num_train):
    """:func:`resnet_book.trainer.recipe.make_recipe` as a dictionary.

    It also names the L2 coefficient ``weight_decay``, as chapter 13 reads it.
    """
    made = recipe.make_recipe(args, replicas, num_train).as_dict()
    return {**made, "weight_decay": made["l2_decay"]}


def build_model(made, input_shape, num_classes=10):
    """:func:`resnet_book.trainer.networks.build_model` of a recipe from :func:`make_recipe`."""
    fields = {key: made[key] for key in recipe.Recipe.__dataclass_fields__}
    fields["milestones"] = tuple(fields["milestones"])
    return networks.build_model(recipe.Recipe(**fields), input_shape, num_classes)


if __name__ == "__main__":
    sys.exit(main())
