"""A calibrated bundle with some control values' calibration left out: those the validation split did not bear out
(docs/models.md, "Calibrated controls"). Values are ``name=value`` for a category, ``name=LOW-HIGH`` for a number's
bin. Usage:

    python bench/leave_out_calibration.py control.seqgen shipped.seqgen fill=no style=neworleans density=10-12
"""

import sys

import attrs

import seqgen


def main(source, target, *left_out) -> None:
    model = seqgen.load(source)
    controls = dict(model.calibration.controls)
    for item in left_out:
        name, value = item.split("=")
        control = next(c for c in model.controls if c.name == name)
        index = control.values.index(value) if control.values else control.edges.index(float(value.split("-")[0]))
        controls[name] = tuple(None if i == index else offsets for i, offsets in enumerate(controls[name]))
    counts = ", ".join(
        f"{sum(o is not None for o in controls[c.name])} of {c.num_bins} {'values' if c.values else 'bins'} of {c.name}"
        for c in model.controls
        if c.name in controls
    )
    description = model.description.split("; calibrated on ")[0]  # what follows counts the whole calibration
    description += f"; calibrated on train_drum_tracks.tfrecord: {counts} (left out by the validation split: "
    description += f"{', '.join(left_out)})"
    attrs.evolve(model, calibration=attrs.evolve(model.calibration, controls=controls)).save(target, description)
    print(description)


if __name__ == "__main__":
    main(*sys.argv[1:])
