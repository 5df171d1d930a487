"""The data behind the dispatcher's queues, in memory, without Textual: the table widget shows
what `model.QueueModel.apply` returns.

- `rows`: `QueueRow` (one request, flat) and how rows are built; `Names`; `fold`.
- `kinds`: the queues (`QueueKind`) and the bits a row carries for them.
- `sorts`: the orders (`Sort`) and their keys (`urgency_key`).
- `filters`: `Filter`, and how free text matches a row.
- `model`: `QueueModel`; `queue_list`: the `QueueList` it returns.
- `masks` and `ordering`: the byte columns and masks that filter 100,000 rows in milliseconds.

The deadline that `due` and the table's colours follow is the handling deadline
(`api_client.domain.deadlines`).
"""
