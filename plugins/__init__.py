"""rf's first-party plugins (installed as the package ``rf_plugins``).

Each is loaded through the ``rf.plugins`` entry-point group, exactly as a third party's would be.
"""
