"""One item's measurement and what it leaves: round trips timed over rounds (``item``), stage times
(``timing``), peak memory (``memory``), pytest-benchmark's record (``bench``) and the durable record
on disk (``records``)."""
