"""Bundles: one self-describing ``.seqgen`` file holding a trained model.

A bundle is a zip of ``manifest.json`` (format_version, plugin, plugin_version, config, description,
hparams, steps_per_quarter, input_size, num_classes) and ``weights.npz`` (Magenta-named arrays, read
with ``allow_pickle=False``): loading never runs code from the file. :func:`load` also reads Magenta
``.mag`` bundles (through :mod:`seqgen.magenta_bundle`, which needs TensorFlow).
"""

import io
import json
import os
import zipfile
import zlib

import attrs
import numpy as np

from seqgen.errors import SeqgenError
from seqgen.files import atomic_path
from seqgen.hparams import HParams

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
WEIGHTS = "weights.npz"
SUFFIX = ".seqgen"


@attrs.frozen
class Bundle:
    """A loaded model: its config (with the bundle's hparams), weights dict and description."""

    config: object
    weights: dict
    description: str = ""


def manifest(config, description: str = "") -> dict:
    from seqgen import plugins

    version = next((p["version"] for p in plugins.plugins() if p["name"] == config.plugin), "")
    return {"format_version": FORMAT_VERSION, "plugin": config.plugin, "plugin_version": version,
            "config": config.id, "description": description, "hparams": config.hparams.to_dict(),
            "steps_per_quarter": config.steps_per_quarter, "input_size": config.encoding.input_size,
            "num_classes": config.encoding.num_classes}


def save(path, config, weights: dict, description: str = "") -> None:
    """Write a bundle to ``path``; refuses to replace an existing file."""
    path = os.fspath(path)
    if os.path.exists(path):
        raise SeqgenError(f"{path} already exists; choose another --bundle_file or remove it first")
    arrays = io.BytesIO()
    np.savez(arrays, **{name: np.asarray(value, np.float32) for name, value in weights.items()})
    with atomic_path(path, replace=False) as temporary, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest(config, description), indent=2))
        archive.writestr(WEIGHTS, arrays.getvalue())


def _read(path) -> tuple:
    """(manifest dict, weights dict) of a ``.seqgen`` file, or SeqgenError saying what is wrong."""
    broken = (f"{path} is not a valid seqgen bundle (truncated or corrupted); "
              f"write it again with seqgen generate --save_generator_bundle")
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.testzip() is not None:
                raise SeqgenError(broken)
            meta = json.loads(archive.read(MANIFEST))
            with np.load(io.BytesIO(archive.read(WEIGHTS)), allow_pickle=False) as arrays:
                weights = {name: arrays[name] for name in arrays.files}
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, zlib.error, OSError, UnicodeDecodeError):
        raise SeqgenError(broken) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format_version"), int):
        raise SeqgenError(broken)
    if meta["format_version"] > FORMAT_VERSION:
        raise SeqgenError(f"{path} has bundle format {meta['format_version']}, newer than this seqgen reads "
                          f"({FORMAT_VERSION}); upgrade seqgen: pip install --upgrade seqgen")
    return meta, weights


def _config(meta: dict, path):
    from seqgen import plugins

    try:
        plugin, config_id = meta["plugin"], meta["config"]
        hparams = HParams.from_dict(meta["hparams"])
        steps_per_quarter = int(meta["steps_per_quarter"])
        sizes = (int(meta["input_size"]), int(meta["num_classes"]))
    except (KeyError, TypeError, ValueError):
        raise SeqgenError(f"{path} has an incomplete manifest; it is not a valid seqgen bundle") from None
    if plugin not in plugins.plugin_names():
        raise SeqgenError(f"{path} needs the seqgen plugin {plugin!r} (version {meta.get('plugin_version')}), "
                          f"which is not installed; install the package that provides it "
                          f"(e.g. pip install seqgen-{plugin}) and try again")
    config = plugins.get_config(config_id, plugin)
    encoding = config.encoding
    if sizes != (encoding.input_size, encoding.num_classes):
        raise SeqgenError(f"{path} was made with an encoding of {sizes[0]} inputs and {sizes[1]} classes, but "
                          f"the installed {plugin} plugin's {config_id} has {encoding.input_size} and "
                          f"{encoding.num_classes}; install the plugin version {meta.get('plugin_version')}")
    return attrs.evolve(config, hparams=hparams, steps_per_quarter=steps_per_quarter)


def load(path) -> Bundle:
    """The model in a ``.seqgen`` bundle or a Magenta ``.mag`` bundle."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SeqgenError(f"bundle file {path} does not exist")
    if not zipfile.is_zipfile(path) and path.endswith(".mag"):
        from seqgen import magenta_bundle

        return Bundle(*magenta_bundle.load(path))
    meta, weights = _read(path)
    return Bundle(_config(meta, path), weights, str(meta.get("description", "")))
