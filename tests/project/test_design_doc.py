"""The design document: it exists, every citation of it names a section it has, and no comment
still points to the design notes outside the repository."""
import re
from pathlib import Path

from conftest import REPO_ROOT

DESIGN = REPO_ROOT / 'docs' / 'design.md'
SCANNED = ('rf', 'plugins', 'tools', 'configs', 'tests')
EXTRA_FILES = ('README.md',)
TEXT_SUFFIXES = {'.py', '.sh', '.md', '.cfg', '.toml', '.txt', '.yaml', '.yml', '.ini'}

# Files allowed to cite the old notes outside the repository (a folder ends in /): none left.
OLD_CITATIONS_ALLOWED = ()

HEADING = re.compile(r'^(##|###) (\d+(?:\.\d+)?)\.? ', re.MULTILINE)
# "docs/design.md §1", "docs/design.md §2.3, §3.2", "docs/design.md §1.5 and §3.2"
CITATION = re.compile(r'docs/design\.md\s*((?:§\s*\d+(?:\.\d+)?(?:\s*(?:,|and)\s*(?=§))?)+)')
SECTION = re.compile(r'§\s*(\d+(?:\.\d+)?)')
# The old notes' citation, spelt so that this file does not match itself.
OLD = re.compile('DES' + r'IGN(?:\.md)?\s*§|shared/DES' + r'IGN')


def sections():
    return {match.group(2) for match in HEADING.finditer(DESIGN.read_text(encoding='utf-8'))}


def scanned_files():
    for folder in SCANNED:
        for path in sorted((REPO_ROOT / folder).rglob('*')):
            if (path.is_file() and path.suffix in TEXT_SUFFIXES
                    and '__pycache__' not in path.parts and '.egg-info' not in str(path)):
                yield path
    for name in EXTRA_FILES:
        yield REPO_ROOT / name
    yield from sorted((REPO_ROOT / 'docs').glob('*.md'))


def relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def test_the_design_document_exists_with_numbered_sections():
    assert DESIGN.is_file()
    found = sections()
    assert {'1', '2', '3', '4', '5', '6', '7'} <= found, sorted(found)


def test_every_citation_names_a_section_that_exists():
    found = sections()
    bad, cited = [], 0
    for path in scanned_files():
        text = path.read_text(encoding='utf-8', errors='replace')
        for match in CITATION.finditer(text):
            for number in SECTION.findall(match.group(1)):
                cited += 1
                if number not in found:
                    line = text.count('\n', 0, match.start()) + 1
                    bad.append(f'{relative(path)}:{line} cites §{number}')
    assert cited > 0  # the scan sees the citations
    assert not bad, 'citations of sections docs/design.md does not have:\n' + '\n'.join(bad)


def test_cross_references_inside_the_document_exist():
    found = sections()
    text = DESIGN.read_text(encoding='utf-8')
    missing = sorted(set(SECTION.findall(text)) - found)
    assert not missing, f'docs/design.md refers to sections it does not have: {missing}'


def test_no_comment_points_to_the_notes_outside_the_repository():
    offenders = []
    for path in scanned_files():
        text = path.read_text(encoding='utf-8', errors='replace')
        name = relative(path)
        if any(name == entry or (entry.endswith('/') and name.startswith(entry))
               for entry in OLD_CITATIONS_ALLOWED):
            continue
        for match in OLD.finditer(text):
            line = text.count('\n', 0, match.start()) + 1
            offenders.append(f'{relative(path)}:{line}')
    assert not offenders, ('cite docs/design.md §N instead of the notes outside the repository:\n'
                           + '\n'.join(offenders))
