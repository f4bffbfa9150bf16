"""Texts named by string resource, resolved per phone, in the phone's language, from its own APKs.

``refs`` is the syntax (``@package:string/key``), ``locale`` the phone's language and Android's folder
order, ``arsc`` the table reader, ``cache`` the on-disk cache, ``resolver`` the reads over adb and
``apply`` the resolved flow and catalogue a run uses. Nothing is imported here so that the flow and
catalogue parsers can import ``refs`` without pulling in the rest.
"""
