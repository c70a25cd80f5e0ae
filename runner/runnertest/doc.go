// Package runnertest is the end-to-end suite every runner.Launcher passes: valohai.yaml
// steps run as executions through the runner, the app service and an event store, with
// inputs, metadata, outputs, sidecars, stop and time-outs. Launcher adapters call Run from
// their tests.
package runnertest
