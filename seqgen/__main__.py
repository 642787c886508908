import sys

try:
    from seqgen.cli import main
except KeyboardInterrupt:  # Ctrl-C before the command started
    print("seqgen: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
