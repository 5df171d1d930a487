"""Open311 GeoReport v2 over the store: `/open311/v2/…` (the routes are in `routes`).

One service per category (`service_code` = category code). The service list is public; posting
service requests needs `api_key` = a hotline token (`keys`: a header is preferred), and so does
reading them unless the server makes reads public (`--open311-public`), which then carry no
personal data (`mapping.public_service_request`). Errors are GeoReport lists
`[{"code": <status>, "description": "..."}]`:

- 400: a parameter missing or invalid, an unknown `service_code` on POST or as a filter, keys
  that differ;
- 403: `api_key` missing (where it is needed), unknown or revoked;
- 404: unknown `service_request_id`, unknown `service_code` on `services/{code}.json`.

Mapping to the hotline: `status` is open|closed (closed and merged are closed), `status_notes`
the detailed state, `agency_responsible` the lead unit's name, `requested_datetime` the received
time, `updated_datetime` the last change, `expected_datetime` the due time (tier deadline).
Datetimes are given in Beijing time (+08:00). Naive `start_date`/`end_date` are read as Beijing
time; a bare date means its midnight.

A POSTed request becomes a `NewRequest`: channel `app` when a `device_id` is sent, `web`
otherwise; type `help` unless `attribute[type]` says otherwise; the community from
`attribute[community]` (an id or a name) when valid, else unknown. `email` and `media_url` have
no field in the hotline's model: they are kept as a note on the request (never shown publicly).
"""
