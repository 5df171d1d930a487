"""The hotline terminal front end: the `hotline` command and the Textual app.

Nothing here imports Textual at module level except the app modules, so that
subcommands that need no screen (`serve`, `token`, `sync`) start quickly.
"""
