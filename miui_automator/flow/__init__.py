"""The flow language: YAML flows parsed completely into a frozen model before anything runs.

``model`` holds the immutable objects the engine executes and reports describe, each step class
declaring its kind; ``parser`` turns YAML text into them (reading it through the shared
:mod:`miui_automator.yaml_reader`, with ``step_grammar`` for each kind's body and ``shell_policy``
for read-only commands) and is the only place a flow can be rejected, always with ``file:line``. ``engine`` runs a flow on a phone and
tells ``listeners``; ``step_registry`` checks that every kind has a builder and a handler;
``tasks_api`` is the protocol ``task:`` steps call, implemented in :mod:`miui_automator.tasks`.
"""
