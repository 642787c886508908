"""What drum tracks are: the drum encodings and tracks, the controls, extraction from NoteSequences, primers,
pictures, played drums (velocities and timing) and one-voice rhythms. Every other room of the plugin builds on
this one; it imports none of them."""
