"""The side that answers the children: a hub taking its laptops' and child hubs' batches exactly
once (`receive`), merging them (`merge`, `inserts`, `flags`, `restamp`) under the policy
(`policy`, `senders`, `origins`), certifying their keys (`certificates`) and keeping the review
queues (`review`, `doubles`)."""
