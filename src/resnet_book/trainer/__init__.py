"""The training tool, ``python -m resnet_book.train``: the paper's CIFAR-10 networks at full scale.

One module per job, each importing only those below it:

- :mod:`~resnet_book.trainer.command`: the command line, ``--help``, the checks made before
  any data loads;
- :mod:`~resnet_book.trainer.outputs`: what a run writes and prints;
- :mod:`~resnet_book.trainer.recipe`: the paper's recipe as a typed :class:`Recipe`, scaled
  to the global batch and checked in the command's terms;
- :mod:`~resnet_book.trainer.datasets`: the data sets as a typed :class:`DataSet`;
  :mod:`~resnet_book.trainer.cifar10` reads CIFAR-10;
- :mod:`~resnet_book.trainer.networks`: the networks and the naming rule that
  ``experiments/`` shares;
- :mod:`~resnet_book.trainer.schedule`: the learning rate step by step, and the optimiser;
- :mod:`~resnet_book.trainer.pipeline`: the input pipeline, augmenting whole batches;
- :mod:`~resnet_book.trainer.loop`: the distributed training and evaluation loop;
- :mod:`~resnet_book.trainer.checkpoints`: checkpoints, resuming, and pre-emption (SIGTERM).

Importing the package imports no TensorFlow. Taught in chapters/13-training-at-scale.ipynb.
"""
