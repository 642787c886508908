"""Bundles: one self-describing ``.seqgen`` file holding a trained model.

A bundle is a zip of ``manifest.json`` (format_version, plugin, plugin_version, config, model,
model_plugin, model_plugin_version, description, hparams, steps_per_quarter, input_size, num_classes; optionally
guidance_base and calibration)
and ``weights.npz`` (arrays keyed by variable name, read with ``allow_pickle=False``): loading never
runs code from the file. Format 1 (no model fields) holds an ``events_rnn``. :func:`load` also reads
Magenta ``.mag`` bundles (through :mod:`seqgen.magenta_bundle`).

Format 3 is an *adapted* bundle (``seqgen adapt``): its manifest's ``adapter`` names the base model (a
shipped model's name or a path) and the SHA-256 of the base's weights (:func:`weights_checksum`), and
``weights.npz`` holds only the low-rank adapters, ``NAME/lora_a`` [in, rank] and ``NAME/lora_b``
[rank, out] of each adapted weight ``NAME``; the model's weights are the base's with ``A @ B`` added
(:func:`merge_adapters`, done by :func:`seqgen.load`).
"""

import hashlib
import io
import json
import os
import zipfile
import zlib

import attrs
import numpy as np

from seqgen import paths
from seqgen.errors import SeqgenError
from seqgen.files import atomic_path
from seqgen.version import DISTRIBUTION

FORMAT_VERSION = 2
ADAPTED_FORMAT_VERSION = 3
MANIFEST = "manifest.json"
WEIGHTS = "weights.npz"
SUFFIX = ".seqgen"
#: The most a bundle's manifest and each of its arrays may claim, checked before they are inflated.
MAX_MANIFEST_BYTES = 1 << 20
MAX_MEMBER_BYTES = 1 << 30


@attrs.frozen
class Bundle:
    """A loaded model: its config (with the bundle's hparams), weights dict and description."""

    config: object
    weights: dict
    description: str = ""
    #: An adapted bundle's manifest ``adapter`` (base, base_sha256, rank); its ``weights`` are the adapters.
    adapter: dict = None
    #: The model its guidance is anchored on by default (manifest ``guidance_base``: a model's name or path).
    guidance_base: str = None
    #: Its sampling matched to its data (manifest ``calibration``: :func:`seqgen.calibration.from_manifest`), or None.
    calibration: dict = None


def manifest(config, description: str = "") -> dict:
    from seqgen import plugins

    model_plugin = plugins.family_plugin(config.model)
    return {
        "format_version": FORMAT_VERSION,
        "plugin": config.plugin,
        "plugin_version": plugins.version(config.plugin),
        "config": config.id,
        "model": config.model,
        "model_plugin": model_plugin,
        "model_plugin_version": plugins.version(model_plugin),
        "description": description,
        "hparams": config.hparams.to_dict(),
        "steps_per_quarter": config.steps_per_quarter,
        "input_size": config.encoding.input_size,
        "num_classes": config.encoding.num_classes,
        **_abilities(config),
    }


def _abilities(config) -> dict:
    """What a bundle lists of its model's controls (with their values) and whether it infills."""
    family = config.family
    if not family.generative:
        return {}
    controls = config.controls if family.takes_controls(config) else ()
    return {"controls": [control.describe() for control in controls], "infill": family.infills(config)}


def save(path, config, weights: dict, description: str = "", guidance_base: str = None, calibration=None) -> None:
    """Write a bundle to ``path``; refuses to replace an existing file.

    ``weights`` is ``{variable name: array}`` with the names and shapes of
    ``config.family.variable_shapes(config)``, so weights computed outside ``seqgen train`` (counted,
    solved, converted from another tool) become a model that ``seqgen.load`` and ``seqgen generate
    --bundle_file`` use like any other: ``bundle.save("m.seqgen", plugins.get_config("my_config"),
    {"bigram/counts": counts})``. ``config`` must be a registered config (its plugin is recorded).
    ``guidance_base`` names the model its controls' guidance is anchored on by default (:mod:`seqgen.guidance`);
    ``calibration`` is its manifest entry (:meth:`seqgen.calibration.Calibration.manifest`), if it has one."""
    path = os.fspath(path)
    paths.check_output_file(path, "--bundle_file")
    if os.path.exists(path):
        raise SeqgenError(f"{path} already exists; choose another --bundle_file or remove it first")
    meta = manifest(config, description)
    if guidance_base:
        meta["guidance_base"] = str(guidance_base)
    if calibration is not None:
        meta["calibration"] = calibration
    _write(path, meta, weights, replace=False)


def _write(path, meta: dict, weights: dict, replace: bool) -> None:
    arrays = io.BytesIO()
    np.savez(arrays, **{name: np.asarray(value, np.float32) for name, value in weights.items()})
    with (
        atomic_path(path, replace=replace) as temporary,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr(MANIFEST, json.dumps(meta, indent=2))
        archive.writestr(WEIGHTS, arrays.getvalue())


def weights_checksum(weights: dict) -> str:
    """SHA-256 of a weights dict: its names, shapes and float32 values, in name order."""
    digest = hashlib.sha256()
    for name in sorted(weights):
        value = np.ascontiguousarray(weights[name], np.float32)
        digest.update(f"{name}:{value.shape}\0".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def save_adapted(
    path, config, adapters: dict, base: str, base_weights: dict, description: str = "", replace: bool = False
) -> None:
    """Write an adapted bundle: ``adapters`` ``{name: (A, B)}`` of the model ``base`` (a shipped model's name
    or a path) whose weights are ``base_weights``; an existing ``path`` is replaced only when ``replace``."""
    path = os.fspath(path)
    paths.check_output_file(path, "--bundle_file")
    rank = int(next(iter(adapters.values()))[0].shape[1]) if adapters else 0
    meta = dict(
        manifest(config, description),
        format_version=ADAPTED_FORMAT_VERSION,
        adapter={"base": base, "base_sha256": weights_checksum(base_weights), "rank": rank},
    )
    arrays = {
        f"{name}/{part}": value for name, pair in adapters.items() for part, value in zip(("lora_a", "lora_b"), pair)
    }
    _write(path, meta, arrays, replace)


def merge_adapters(base_weights: dict, adapters: dict, path) -> dict:
    """The base's weights with each adapter's ``A @ B`` added (``adapters``: an adapted bundle's arrays)."""
    weights = dict(base_weights)
    for key in adapters:
        name, part = key.rsplit("/", 1)
        if part not in ("lora_a", "lora_b") or f"{name}/lora_a" not in adapters or f"{name}/lora_b" not in adapters:
            raise SeqgenError(f"{path} is not a valid adapted bundle: {key} is not an adapter pair's part")
        if part == "lora_b":
            continue
        a, b = adapters[key], adapters[f"{name}/lora_b"]
        base = weights.get(name)
        if base is None or base.ndim != 2 or a.shape[1] != b.shape[0] or (a.shape[0], b.shape[1]) != base.shape:
            raise SeqgenError(f"{path}'s adapter of {name} does not fit its base model's weights; adapt the base again")
        weights[name] = (base + a @ b).astype(np.float32)
    return weights


def _check_kind(path) -> None:
    """SeqgenError naming what ``path`` is when it is not a zip archive at all (before zipfile reads it)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4)
    except OSError as error:
        raise SeqgenError(f"cannot read {path}: {error.strerror}") from None
    if zipfile.is_zipfile(path):
        return
    give = (
        "give a .seqgen file written by seqgen (generate --save_generator_bundle or import_bundle), a Magenta "
        ".mag or a shipped model's name"
    )
    if not head:
        raise SeqgenError(f"{path} is empty, not a valid seqgen bundle; {give}")
    if head == b"MThd":
        raise SeqgenError(
            f"{path} is a MIDI file, not a valid seqgen bundle (a MIDI primer goes with --primer_midi); {give}"
        )
    raise SeqgenError(
        f"{path} is not a valid seqgen bundle (not a zip archive: truncated, or another kind of file); {give}"
    )


def _member(archive, name, path, limit=None) -> bytes:
    """One member of a zip archive, its size (as the archive states it) checked before it is inflated."""
    info = archive.getinfo(name)
    limit = limit or MAX_MEMBER_BYTES
    if info.file_size > limit:
        raise SeqgenError(
            f"{path} is not a valid seqgen bundle: its {name} claims {info.file_size} bytes, more "
            f"than a bundle holds ({limit}); it is corrupted or was not written by seqgen"
        )
    return archive.read(info)


def _arrays(content: bytes, path) -> dict:
    """The arrays of ``weights.npz``: each ``.npy`` header's shape must match the bytes behind it before
    an array is made (a forged shape would otherwise allocate what it claims); no pickled objects."""
    weights = {}
    with zipfile.ZipFile(io.BytesIO(content)) as npz:
        for name in npz.namelist():
            if not name.endswith(".npy"):
                raise ValueError(f"{name} is not an array")
            data = _member(npz, name, path)
            stream = io.BytesIO(data)
            version = np.lib.format.read_magic(stream)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unknown .npy version {version}")
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = header(stream)
            if dtype.hasobject:
                raise SeqgenError(
                    f"{path} is not a valid seqgen bundle: {name} holds Python objects, which seqgen "
                    f"never loads (they could run code)"
                )
            if int(np.prod(shape, dtype=object)) * dtype.itemsize != len(data) - stream.tell():
                raise ValueError(f"{name}'s shape {shape} does not match its data")
            stream.seek(0)
            weights[name[: -len(".npy")]] = np.lib.format.read_array(stream, allow_pickle=False)
    return weights


def _read(path) -> tuple:
    """(manifest dict, weights dict) of a ``.seqgen`` file, or SeqgenError saying what is wrong."""
    broken = (
        f"{path} is not a valid seqgen bundle (truncated or corrupted); "
        f"write it again with seqgen generate --save_generator_bundle"
    )
    _check_kind(path)
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _member(archive, MANIFEST, path, MAX_MANIFEST_BYTES)
            content = _member(archive, WEIGHTS, path)
            meta = json.loads(manifest)
            weights = _arrays(content, path)
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        EOFError,
        zlib.error,
        OSError,
        UnicodeDecodeError,
        RecursionError,
        NotImplementedError,
    ):  # NotImplementedError: a compression zipfile lacks
        raise SeqgenError(broken) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format_version"), int):
        raise SeqgenError(broken)
    if meta["format_version"] > ADAPTED_FORMAT_VERSION:
        raise SeqgenError(
            f"{path} has bundle format {meta['format_version']}, newer than this seqgen reads "
            f"({ADAPTED_FORMAT_VERSION}); upgrade seqgen: pip install --upgrade {DISTRIBUTION}"
        )
    return meta, weights


def _config(meta: dict, path):
    from seqgen import plugins

    try:
        plugin, config_id = str(meta["plugin"]), str(meta["config"])
        model = str(meta.get("model", "events_rnn"))
        model_plugin = str(meta.get("model_plugin", plugins.DEFAULT_PLUGIN))
        hparams = dict(meta["hparams"])
        steps_per_quarter = int(meta["steps_per_quarter"])
        sizes = (int(meta["input_size"]), int(meta["num_classes"]))
    except (KeyError, TypeError, ValueError):
        raise SeqgenError(f"{path} has an incomplete manifest; it is not a valid seqgen bundle") from None
    for name, needs, version in (
        (plugin, f"the seqgen plugin {plugin!r}", meta.get("plugin_version")),
        (
            model_plugin,
            f"model family {model!r} from the seqgen plugin {model_plugin!r}",
            meta.get("model_plugin_version"),
        ),
    ):
        if name not in plugins.plugin_names():
            raise plugins.not_installed(name, f"{path} needs {needs} (version {version})")
    if model not in plugins.families():
        raise SeqgenError(
            f"{path} needs model family {model!r}, which the installed plugin {model_plugin!r} "
            f"does not provide; upgrade it: pip install --upgrade {plugins.distribution(model_plugin)}"
        )
    config = plugins.get_config(config_id, plugin)
    if config.model != model:
        config = attrs.evolve(config, model=model)
    encoding = config.encoding
    if sizes != (encoding.input_size, encoding.num_classes):
        raise SeqgenError(
            f"{path} was made with an encoding of {sizes[0]} inputs and {sizes[1]} classes, but "
            f"the installed {plugin} plugin's {config_id} has {encoding.input_size} and "
            f"{encoding.num_classes}; install the plugin version {meta.get('plugin_version')}"
        )
    hparams = config.family.hparams_class.from_dict(hparams)
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
    adapter = meta.get("adapter") if meta["format_version"] == ADAPTED_FORMAT_VERSION else None
    if meta["format_version"] == ADAPTED_FORMAT_VERSION and not (
        isinstance(adapter, dict)
        and isinstance(adapter.get("base"), str)
        and isinstance(adapter.get("base_sha256"), str)
    ):
        raise SeqgenError(
            f"{path} has an incomplete manifest (its adapter names no base); it is not a valid seqgen bundle"
        )
    base = meta.get("guidance_base")
    if base is not None and not isinstance(base, str):
        raise SeqgenError(
            f"{path} has a manifest whose guidance_base is not a model's name; it is not a valid seqgen bundle"
        )
    return Bundle(
        _config(meta, path), weights, str(meta.get("description", "")), adapter, base, meta.get("calibration")
    )
