"""seqgen studio: a local web page to make tracks with a model, without the command line.

:func:`seqgen.studio.app.create_app` builds the server; ``seqgen studio`` runs it. Needs the ``studio``
extra (Starlette and uvicorn).
"""
