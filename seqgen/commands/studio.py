"""Start the studio: a web page on this machine to draw a primer, generate, play and download tracks.

Serves http://127.0.0.1:8765 unless --host/--port say otherwise; open the printed address in a browser.
The page offers the shipped models and the .seqgen and .mag bundles found in --models DIR. Ctrl+C stops
it; the generated files live in a temporary folder removed on exit (download what you keep).
Needs the studio extra: pip install "seqgen-music[studio]".
"""

import argparse
import os
import socket

from seqgen.errors import SeqgenError
from seqgen.version import DISTRIBUTION

INSTALL_HINT = f'pip install "{DISTRIBUTION}[studio]"'


def port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return int(text)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--port", type=port_number, default=8765, help="port to listen on (default 8765; 0: any free one)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: the network)",
    )
    parser.add_argument(
        "--models", metavar="DIR", help="a folder of .seqgen and .mag bundles to offer beside the shipped models"
    )


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, or SeqgenError saying why not."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        raise SeqgenError(f"--host {host} is not an address of this machine") from None
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(info[4])
    except OSError as error:
        sock.close()
        raise SeqgenError(f"cannot listen on {host}:{port}: {error.strerror}; choose another --port") from None
    sock.listen(128)
    return sock


def run(args) -> int:
    if args.models and not os.path.isdir(args.models):
        raise SeqgenError(f"--models {args.models} is not a folder; give the folder holding .seqgen or .mag bundles")
    try:
        import uvicorn

        from seqgen.studio import server
        from seqgen.studio.app import create_app
    except ImportError as error:
        raise SeqgenError(
            f"seqgen studio needs {error.name}, which is not installed; install it with: {INSTALL_HINT}"
        ) from None
    sock = listen(args.host, args.port)
    address, port = sock.getsockname()[:2]
    shown = socket.gethostname() if address in ("0.0.0.0", "::") else f"[{address}]" if ":" in address else address
    print(f"seqgen studio: open http://{shown}:{port} in a browser (Ctrl+C stops it)", flush=True)
    app = create_app(args.models, args.host)
    uvicorn.Server(server.config(app)).run(sockets=[sock])
    return 0
