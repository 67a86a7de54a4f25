"""What a whole mesh cannot enforce as written: notes that need more than one document.

`notes.py` judges one document at a time. Some limits only show once documents meet: a
security policy that names its callers, aimed at a service whose sidecar has mTLS off,
can only trust a header the caller's sidecar sets; a jwt requirement with no jwt settings
targeting the service verifies nothing. `lucid validate` and `lucid apply` build the
mesh from the files given and print these too.
"""

from __future__ import annotations

from lucid.translators.access import notes_for
from lucid.translators.notes import Note
from lucid.translators.state import MeshState


def mesh_notes(state: MeshState) -> list[tuple[str, Note]]:
    """(service, note) for every registered service, in service order."""
    return [(name, note) for name in sorted(state.services) for note in notes_for(state, name)]
