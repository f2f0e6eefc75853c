"""Running beside Backstage: its entities in (uploads and scheduled sync sources), and the
fleet out as entities Backstage accepts.

- ``refs``: entity references, ``kind:namespace/name``, as Backstage parses them.
- ``importer``: parsing, shape checks, the per-entity result and the upload's report.
- ``engine``: one entity at a time, in order Group, User, Component, API, other kinds.
- ``components``: a Component into an app (identity, owners, what follows the file).
- ``jobs``: imports and syncs in the background, in chunks, with progress.
- ``export``: apps (and the whole fleet) as Backstage entities.
"""
