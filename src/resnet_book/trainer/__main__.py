"""``python -m resnet_book.trainer``, the same command as ``python -m resnet_book.train``."""

import sys

from resnet_book.trainer.command import main

if __name__ == "__main__":
    sys.exit(main())
