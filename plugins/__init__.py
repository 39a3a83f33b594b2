"""rf's first-party plugins, installed as the package ``rf_plugins``.

This folder becomes ``rf_plugins`` through ``package_dir = rf_plugins = plugins`` in setup.cfg
(editable installs map it the same way), and each plugin is listed there in the ``rf.plugins``
entry-point group (docs/design.md §4.3).

Each is loaded through the ``rf.plugins`` entry-point group, exactly as a third party's would be.
"""
