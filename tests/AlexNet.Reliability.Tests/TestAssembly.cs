// Two shared cores, torch, Azurite and a worker process: one test at a time keeps locks, kills and timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
