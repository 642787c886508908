"""What users install must work: build both distributions and try them as a new user would.

Run by scripts/test.sh (so CI) with the repository's .venv python, which has `build`. Each step runs in a
fresh virtual environment outside the checkout, never an editable install:

1. the README's set-up command, exactly as written, in a copy of the working tree;
2. the sdists and wheels of seqgen-music and seqgen-music-drums from ``python -m build`` (each wheel built
   from its sdist), installed over it with the studio extra;
3. from an empty folder: ``seqgen plugins`` with no plugin broken, the README's Python API example,
   ``seqgen render`` without FluidSynth on the PATH and with it, ``seqgen studio`` answering its page,
   ``/api/models`` and a generate request, and TensorFlow not installed;
4. a shipped model deleted from the installed copy: ``seqgen generate`` names the file and says to reinstall.

Any failure ends the check with one line naming the step (its output above it).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


class Failed(Exception):
    """A step of the check failed; its message is the one line CI prints."""


def run(step: str, command, cwd, env, timeout=900, expect_fail=False) -> str:
    """Run ``command`` (a list, or a string for bash); its output, or Failed naming ``step``."""
    shell = isinstance(command, str)
    result = subprocess.run(
        ["bash", "-c", command] if shell else command,
        cwd=cwd,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    if (result.returncode != 0) != expect_fail:
        print(output[-4000:], file=sys.stderr)
        raise Failed(f"{step}: exit status {result.returncode}")
    return output


def venv_env(venv: Path, path: str = None) -> dict:
    """The environment of a shell in which ``venv`` is activated (``path``: the rest of PATH)."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH'] if path is None else path}"
    return env


def readme_block(heading: str, language: str) -> str:
    """The first ``language`` code block under ``heading`` in the README."""
    found = re.search(rf"{re.escape(heading)}[^\n]*\n.*?```{language}\n(.*?)```", README, re.S)
    if not found:
        raise Failed(f"README: no {language} block under {heading!r}")
    return found.group(1).strip()


def copy_working_tree(target: Path) -> None:
    """The checkout's files (tracked and untracked, not ignored), as a fresh clone with the changes has them."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(url: str, body: dict = None):
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"} if body is not None else {},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return answer.status, answer.read()


def check_studio(venv: Path, folder: Path) -> None:
    port = free_port()
    log = open(folder / "studio.log", "w")
    server = subprocess.Popen(
        [str(venv / "bin" / "seqgen"), "studio", "--port", str(port)],
        cwd=folder,
        env=venv_env(venv),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if server.poll() is not None:
                break
            try:
                status, page = http(base + "/")
                break
            except OSError:
                time.sleep(0.25)
        else:
            raise Failed("seqgen studio: no answer on its port within 60 s")
        if server.poll() is not None:
            print((folder / "studio.log").read_text()[-4000:], file=sys.stderr)
            raise Failed(f"seqgen studio: stopped with exit status {server.returncode}")
        if status != 200 or b"<html" not in page.lower():
            raise Failed(f"seqgen studio: the page answered {status} without HTML")
        status, listing = http(base + "/api/models")
        models = json.loads(listing)
        ids = [model["id"] for model in (models["models"] if isinstance(models, dict) else models)]
        if status != 200 or not ids:
            raise Failed(f"seqgen studio: /api/models answered {status} with no model")
        status, made = http(base + "/api/generate", {"model": ids[0], "new_steps": 16, "num_outputs": 1})
        if status != 200 or not json.loads(made).get("results"):
            raise Failed(f"seqgen studio: /api/generate answered {status} with no result")
    except OSError as error:
        print((folder / "studio.log").read_text()[-4000:], file=sys.stderr)
        raise Failed(f"seqgen studio: a request failed ({error})") from None
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="seqgen-installed-"))
    try:
        check(scratch)
    except Failed as failure:
        print(f"installed-package check failed: {failure}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as timeout:
        print(f"installed-package check failed: {timeout.cmd[-1]} ran past {timeout.timeout} s", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        "installed-package check: passed (README set-up, wheels, plugins, API, render, studio, no TensorFlow, "
        "missing model)"
    )
    return 0


def check(scratch: Path) -> None:
    venv, checkout, dist, folder = (scratch / name for name in ("venv", "checkout", "dist", "user"))
    for path in (checkout, folder):
        path.mkdir()
    here = dict(os.environ)
    run("python -m venv", [sys.executable, "-m", "venv", str(venv)], scratch, here)
    copy_working_tree(checkout)

    setup = readme_block("## Set-up on a fresh machine", "sh")
    run(f"README's set-up command ({setup})", setup, checkout, venv_env(venv))
    made = sorted((checkout / "generated").glob("*.mid"))
    if len(made) != 10:
        raise Failed(f"README's set-up command: wrote {len(made)} MIDI files into ./generated, not 10")

    for source in (checkout, checkout / "plugins" / "drums"):
        run(
            f"python -m build {source.relative_to(checkout) or '.'}",
            [sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
            scratch,
            here,
        )
    wheels = {re.sub(r"-\d.*", "", path.name): path for path in dist.glob("*.whl")}
    if sorted(wheels) != ["seqgen_music", "seqgen_music_drums"] or len(list(dist.glob("*.tar.gz"))) != 2:
        raise Failed(f"python -m build: made {sorted(p.name for p in dist.iterdir())}, not two sdists and two wheels")
    python = str(venv / "bin" / "python")
    run(
        "pip install the wheels",
        [python, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", *map(str, wheels.values())],
        folder,
        venv_env(venv),
    )
    run(
        "pip install the studio extra",
        [python, "-m", "pip", "install", "-q", f"seqgen-music[studio] @ {wheels['seqgen_music'].as_uri()}"],
        folder,
        venv_env(venv),
    )

    listed = json.loads(run("seqgen plugins --json", ["seqgen", "plugins", "--json"], folder, venv_env(venv)))
    broken = [f"{plugin['name']} ({plugin['error']})" for plugin in listed if plugin["error"]]
    if broken or not listed:
        raise Failed(f"seqgen plugins: {'broken: ' + ', '.join(broken) if broken else 'no plugin installed'}")

    api = readme_block("## Python API", "python")
    run("README's Python API example", [python, "-c", api], folder, venv_env(venv))
    clip = folder / "drums_0.mid"
    if not clip.is_file():
        raise Failed("README's Python API example: wrote no drums_0.mid")
    for label, path in (("without FluidSynth", ""), ("with FluidSynth", None)):
        if path is None and shutil.which("fluidsynth") is None:
            print("note: FluidSynth is not installed here; seqgen render was checked without it only")
            continue
        out = folder / f"render {label}"
        run(
            f"seqgen render {label}",
            ["seqgen", "render", str(clip), "--output_dir", str(out)],
            folder,
            venv_env(venv, path),
        )
        if not (out / "drums_0.wav").is_file() or not (out / "drums_0.png").is_file():
            raise Failed(f"seqgen render {label}: wrote {sorted(p.name for p in out.iterdir())}, not a WAV and a PNG")

    check_studio(venv, folder)

    if (
        run(
            "TensorFlow not installed",
            [python, "-c", "import importlib.util; print(importlib.util.find_spec('tensorflow') is None)"],
            folder,
            venv_env(venv),
        ).strip()
        != "True"
    ):
        raise Failed("TensorFlow not installed: the light install has TensorFlow")

    site = run(
        "find the installed plugin",
        [python, "-c", "import seqgen_drums, os; print(os.path.dirname(seqgen_drums.__file__))"],
        folder,
        venv_env(venv),
    )
    models = Path(site.strip()) / "models"
    for model in models.glob("*.seqgen"):
        model.unlink()
    said = run(
        "seqgen generate with the shipped models deleted",
        ["seqgen", "generate", "--output_dir", "gone"],
        folder,
        venv_env(venv),
        expect_fail=True,
    ).strip()
    if len(said.splitlines()) != 1 or "reinstall" not in said or ".seqgen" not in said:
        raise Failed(
            f"seqgen generate with the shipped models deleted: said {said!r}, not one line naming the "
            f"missing file and saying to reinstall"
        )


if __name__ == "__main__":
    sys.exit(main())
