package graphql

//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go run ./internal/sequentiallists generated/exec.go
