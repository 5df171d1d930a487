"""Requests that are likely one incident: duplicate clusters for the dispatcher to merge.

Pure (no Textual, no IO). `clusters.find_clusters(items)` groups open, unmerged requests that report

- the same problem (`problems.problem_of`: words of the description within a related category
  group): a roof leak, a window or wall leak, a flooded basement, a blocked drain, water on a road
  or in a compound, a power cut (a lift stopped by it and pumps without power included), a lift
  fault, a fallen tree — or, for other kinds, similar text (`text`: character bigrams, Dice);
- at one place for that problem's reach: a window leak is one flat's, a roof leak, a basement or
  a lift one building's (any flat under the roof), a power cut or a flooded compound the whole
  compound's, water on a road one spot's (马甸桥 with or without 北三环中路, 公交站 / 车站边上,
  a bare road's spot read from the description). Addresses are read by `places`, and names a
  typing slip apart are one name when a caller of the same community made the slip (`slips`:
  得胜里一区 is 德胜里一区; 裕民东里 and 裕中东里 are two compounds);
- a time within `window` of each other.

Modules: `items` (`Item`, what clustering reads of a request), `places` (an address as a place),
`slips` (place names a typing slip apart), `problems` (related categories, the problem a request
reports and its reach), `text` (description similarity), `prepared` (each request read once),
`scoring` (a pair's score and reasons), `linking` (links into groups), `clusters` (`Cluster`,
`find_clusters`). `bench/duplicates.py` measures precision, recall and time.
"""
