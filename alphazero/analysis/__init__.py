"""KataGo's JSON analysis engine for our search: query parsing (``query``), the game positions a
query names (``position``), the batched scheduler that searches every pending turn of every query
together (``scheduler``) and the result lines (``results``)."""
