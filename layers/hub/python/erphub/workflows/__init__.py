"""Starting and running the business workflows (the state machines live in statemachines/)."""
