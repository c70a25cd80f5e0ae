// Package token is the API token aggregate: a bearer token is created for one user with
// the SHA-256 hash of its secret (the secret itself is never recorded), optionally as a
// server-admin token, and revoked. It imports only the standard library and package domain.
//
// The application layer generates the ID and the secret, hashes the secret and hands the
// hash to Create; authenticating a request hashes the presented secret and compares it with
// the recorded hash of the token named by the ID part of the bearer string.
package token
