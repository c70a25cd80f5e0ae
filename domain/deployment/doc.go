// Package deployment is the deployment aggregate: named versions of a deployment, each
// referencing the datums its endpoints load, so lineage can answer "which deployments rely
// on this file". It imports only the standard library and package domain.
package deployment
