package events

import (
	"fmt"

	"github.com/google/uuid"
)

// NewID returns a new UUIDv7 event ID: time-ordered, so IDs of one writer sort by creation.
func NewID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		// uuid.NewV7 fails only when the system's random source does, which Go treats as fatal.
		panic(fmt.Sprintf("events: new id: %v", err))
	}
	return id
}
