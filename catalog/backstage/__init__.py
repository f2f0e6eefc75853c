"""Running beside Backstage: its entities in (uploads and scheduled sync sources), and the
fleet out as entities Backstage accepts.

- ``refs``: entity references, ``kind:namespace/name``, as Backstage parses them.
- ``importer``: one entity at a time into teams, people, apps and contracts.
- ``jobs``: imports and syncs in the background, in chunks, with progress.
- ``export``: apps (and the whole fleet) as Backstage entities.
"""
