"""Requests that are likely one incident: duplicate clusters for the dispatcher to merge.

Pure (no Textual, no IO). `clusters.find_clusters(items)` groups open, unmerged requests that report

- one problem, read from the caller's words within what the category allows (`problems`, with the
  words of `lexicon`, colloquial and misspelt ones included, and what the caller denies left out,
  `negation`): a roof or a window leak, water in a basement, a garage, a compound or on a road, a
  blocked drain, sewage, a manhole, a power cut, a lift, the heating, a burst pipe, ice and snow, a
  fallen tree, a wall … — or a problem and its cause (a lift, a pump, the lights stopped by a power
  cut; the water, the empty taps and the ice of a burst main); for other requests, similar text
  (`text`: character bigrams, Dice);
- at one place for that problem's reach: a window leak is one flat's, a lift one unit's, a roof or
  a basement one building's, a power cut or a heat source the whole compound's, water on a road one
  spot's. Addresses, and descriptions where the address says less, are read as places (`places`):
  the street's names in every spelling (`gazetteer`: 德外 / 德胜门外, 一区 / 1区, a community's
  shorthand, homophone slips), numbers however written (`api_client.domain.place_names`), the spot on a road
  (`spots`: a landmark, a junction, a gate, a stop …); names the gazetteer does not know are one
  name a typing slip apart (`slips`);
- a time within `window` of each other (a failure that lasts until it is repaired: longer).

A report that names only the road, the compound or the building joins an incident there only when
the group's other reports agree, and never two incidents surely apart (`linking`).

Modules: `items` (`Item`, what clustering reads of a request), `gazetteer`, `spots`,
`places`, `slips`, `negation`, `lexicon`, `problems`, `text`, `prepared` (each request read once),
`scoring` (a pair's score, its reasons, and pairs surely apart), `linking` (links into groups),
`clusters` (`Cluster`, `find_clusters`). `bench/duplicates.py` measures precision, recall and time
on the storm generator and on the hand-written sets (`bench/handwritten`).
"""
