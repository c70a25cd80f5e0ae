package app

import (
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
)

// Stream names: one place decides which stream each aggregate instance lives in. Names
// keyed by a project and a name (aliases, datasets) make the name unique in the project:
// creating one appends to a stream that exists only if the name is taken.

// ProjectStream returns "project-<id>".
func ProjectStream(id domain.ProjectID) events.StreamID {
	return events.StreamID("project-" + string(id))
}

// ExecutionStream returns "execution-<id>".
func ExecutionStream(id domain.ExecutionID) events.StreamID {
	return events.StreamID("execution-" + string(id))
}

// DatumStream returns "datum-<id>".
func DatumStream(id domain.DatumID) events.StreamID { return events.StreamID("datum-" + string(id)) }

// AliasStream returns "alias-<project>/<name>": one datum alias of a project.
func AliasStream(p domain.ProjectID, name string) events.StreamID {
	return events.StreamID("alias-" + string(p) + "/" + name)
}

// DatasetStream returns "dataset-<project>/<name>": one dataset of a project, keyed by
// name so the name is unique in the project.
func DatasetStream(p domain.ProjectID, name string) events.StreamID {
	return events.StreamID("dataset-" + string(p) + "/" + name)
}

// TaskStream returns "task-<id>".
func TaskStream(id domain.TaskID) events.StreamID { return events.StreamID("task-" + string(id)) }

// DeploymentStream returns "deployment-<id>".
func DeploymentStream(id domain.DeploymentID) events.StreamID {
	return events.StreamID("deployment-" + string(id))
}

// EnvironmentStream returns "environment-<id>".
func EnvironmentStream(id domain.EnvironmentID) events.StreamID {
	return events.StreamID("environment-" + string(id))
}
