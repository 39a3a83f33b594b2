"""List every rf plugin: its entry point, distribution, version and the names it registered.

Plugins are loaded for this listing even when RF_DISABLE_PLUGIN_AUTOLOAD is set; failed ones are
listed with their error. Exit status 1 when any plugin failed.

Examples:
    python tools/list_plugins.py
    python tools/list_plugins.py --json
"""
import argparse
import json
import warnings
from dataclasses import asdict


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', action='store_true', help='print a JSON list')
    args = parser.parse_args(argv)

    from rf.plugins import RfPluginWarning, load_plugins, loaded_plugins
    with warnings.catch_warnings():
        # Failures are reported in the listing itself.
        warnings.simplefilter('ignore', RfPluginWarning)
        load_plugins()
    plugins = loaded_plugins()
    if args.json:
        print(json.dumps([dict(asdict(p), loaded=p.loaded) for p in plugins], indent=2))
    else:
        if not plugins:
            print("no rf plugins installed (entry-point group 'rf.plugins')")
        for p in plugins:
            origin = f'{p.distribution} {p.version}' if p.distribution else 'in-process'
            print(f'{p.name}  [{origin}]  {p.module}')
            if p.error:
                print(f'    FAILED: {p.error}')
            for registry, names in sorted(p.registered.items()):
                print(f'    {registry}: {", ".join(names)}')
    return 1 if any(not p.loaded for p in plugins) else 0
