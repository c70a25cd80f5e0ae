package graphql

//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go run ./internal/fastpaths generated/exec.go Execution LineageNode LineageEdge StatusCount
