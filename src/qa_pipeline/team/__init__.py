"""The QA team's people in the workspace: accounts and who may see what, agents' disputes, coaching.

The server's routes call these; so do the `users` command and scripts. Every rule about who may see or
change what lives here, not in the routes, so the pages and the JSON API cannot disagree."""
