"""``seqgen live``: a model playing in real time, bar by bar, to MIDI ports and OSC receivers.

:mod:`~seqgen.live.clock` says when each beat falls (its own tempo, a MIDI clock it follows, or an Ableton Link
session it joins: the link extra); :mod:`~seqgen.live.drummer` generates the next bar in a background thread
while the current one plays; :mod:`~seqgen.live.steering` turns incoming MIDI (CCs, notes, program changes)
into the controls of the next bars; :mod:`~seqgen.live.form` plans the bars of a song
form (``--form``); :mod:`~seqgen.live.player` sends each note at its time; :mod:`~seqgen.live.ports` opens MIDI
ports (mido, python-rtmidi) and OSC targets (python-osc). Needs the live extra.
"""
