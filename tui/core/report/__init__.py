"""The supervisor's report: the dashboard's numbers and the shift handover (`hotline report`).

No Textual. `model` (the `Report`, its parts and its inputs), `periods` (the rate periods and the
shift's start), `fetch` (reading the inputs from the local cache and the server), `analytics`
(`build_report` and every definition), `render` (Markdown, CSV, JSON as text), `files` (where
and how a report file is written).
"""
