"""The plugin's model families, each a package laid out as the core's: the family and its hparams in
``__init__``, a NumPy leaf (``inference``, no TensorFlow) and the Keras ``network`` that imports it, never the
reverse. ``groove``: the groove and drumify families (GrooVAE's Humanize and Tap2Drum); ``style``: the
style_classifier family."""
