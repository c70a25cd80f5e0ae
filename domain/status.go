package domain

// ExecutionStatus is the lifecycle state of an execution. It lives here rather than in
// package execution because tasks summarise their executions by status.
type ExecutionStatus string

// The execution statuses, exactly Valohai's. See package execution for the transitions.
const (
	StatusCreated  ExecutionStatus = "created"  // recorded, not yet handed to the scheduler
	StatusQueued   ExecutionStatus = "queued"   // waiting for a worker
	StatusStarted  ExecutionStatus = "started"  // a worker runs it; user code runs only here
	StatusStopping ExecutionStatus = "stopping" // a stop was requested while it ran
	StatusStopped  ExecutionStatus = "stopped"  // ended by a stop request
	StatusComplete ExecutionStatus = "complete" // the commands exited 0
	StatusError    ExecutionStatus = "error"    // the commands exited non-zero
	StatusCrashed  ExecutionStatus = "crashed"  // the platform failed it
)

// ExecutionStatuses lists every status in lifecycle order.
func ExecutionStatuses() []ExecutionStatus {
	return []ExecutionStatus{StatusCreated, StatusQueued, StatusStarted, StatusStopping, StatusStopped, StatusComplete, StatusError, StatusCrashed}
}

// IsTerminal reports whether nothing can follow s: stopped, complete, error and crashed.
func (s ExecutionStatus) IsTerminal() bool {
	switch s {
	case StatusStopped, StatusComplete, StatusError, StatusCrashed:
		return true
	}
	return false
}

// IsValid reports whether s is one of the eight statuses.
func (s ExecutionStatus) IsValid() bool {
	for _, x := range ExecutionStatuses() {
		if s == x {
			return true
		}
	}
	return false
}
