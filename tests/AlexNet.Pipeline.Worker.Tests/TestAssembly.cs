// The tests share two cores with torch and Azurite: one at a time keeps timings (lock renewals, shutdown) honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
