import sys

from seqgen.cli import main

sys.exit(main())
