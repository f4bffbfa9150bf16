"""The flow language: YAML flows parsed completely into a frozen model before anything runs.

``model`` holds the immutable objects the engine executes and reports describe; ``parser`` turns
YAML text into them and is the only place a flow can be rejected, always with ``file:line``.
"""
