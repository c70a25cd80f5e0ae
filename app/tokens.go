package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/token"
	"github.com/stratahq/strata/events"
)

// TokenStream returns "token-<id>".
func TokenStream(id token.ID) events.StreamID { return events.StreamID("token-" + string(id)) }

// BootstrapTokenID is the ID of the server-admin token created on a server's first start.
const BootstrapTokenID token.ID = "00000000-0000-7000-8000-000000000001"

// BootstrapUser is the user the first server-admin token authenticates.
const BootstrapUser domain.UserID = "admin"

// tokenPrefix starts every bearer secret: "strata_<token id>.<secret>".
const tokenPrefix = "strata_"

var tokenDecider = events.Decider[token.State, token.Command, token.Event]{Decide: token.Decide, Evolve: token.Evolve}

// Principal is who a request authenticated as.
type Principal struct {
	User  domain.UserID
	Token token.ID
	// Admin tokens may create and revoke other users' tokens and read the whole log.
	Admin bool
}

const principalKey ctxKey = 100

// WithPrincipal returns ctx carrying p, and p.User as the actor.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return WithActor(context.WithValue(ctx, principalKey, p), p.User)
}

// PrincipalFrom returns the principal ctx carries, and false if none.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey).(Principal)
	return p, ok && p.User != ""
}

// Errors of authentication and authorization.
var (
	// ErrUnauthenticated: no valid token (missing, malformed, unknown, wrong secret or
	// revoked). It says no more, on purpose.
	ErrUnauthenticated = fmt.Errorf("invalid or revoked API token: %w", domain.ErrInvalid)
	// ErrNotAdmin: the request needs a server-admin token.
	ErrNotAdmin = fmt.Errorf("needs a server-admin token: %w", ErrForbidden)
)

// CreateToken asks for a new API token.
type CreateToken struct {
	// User is whom the token authenticates; "" means the caller. Another user's token
	// needs a server-admin caller.
	User domain.UserID
	Name string
	// Admin makes a server-admin token; it needs a server-admin caller.
	Admin bool
}

// CreatedToken is a token CreateToken created. Secret is the bearer string, returned
// here only: the log keeps its SHA-256.
type CreatedToken struct {
	ID       token.ID
	User     domain.UserID
	Secret   string
	Position events.Position
}

// CreateToken creates an API token for the caller, or, for a server-admin caller, for any
// user and possibly with server-admin rights.
func (s *Service) CreateToken(ctx context.Context, c CreateToken) (CreatedToken, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return CreatedToken{}, fmt.Errorf("create token: %w", ErrUnauthenticated)
	}
	if c.User == "" {
		c.User = p.User
	}
	if (c.User != p.User || c.Admin) && !p.Admin {
		return CreatedToken{}, fmt.Errorf("create token for %s: %w", c.User, ErrNotAdmin)
	}
	return s.createToken(ctx, token.ID(s.newID()), c, p.User)
}

// BootstrapAdminToken creates the first server-admin token (for BootstrapUser) unless it
// exists; created reports whether it did. Only cmd calls it, on a server's start.
func (s *Service) BootstrapAdminToken(ctx context.Context) (t CreatedToken, created bool, err error) {
	st, _, err := events.Fold(ctx, s.log, s.codec, TokenStream(BootstrapTokenID), token.State{}, token.Evolve)
	if err != nil {
		return CreatedToken{}, false, fmt.Errorf("bootstrap admin token: %w", err)
	}
	if st.Exists() {
		return CreatedToken{}, false, nil
	}
	ctx = WithActor(ctx, BootstrapUser)
	t, err = s.createToken(ctx, BootstrapTokenID, CreateToken{User: BootstrapUser, Name: "bootstrap admin", Admin: true}, BootstrapUser)
	if errors.Is(err, token.ErrExists) {
		return CreatedToken{}, false, nil // another server created it meanwhile
	}
	return t, err == nil, err
}

func (s *Service) createToken(ctx context.Context, id token.ID, c CreateToken, by domain.UserID) (CreatedToken, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return CreatedToken{}, fmt.Errorf("create token: %w", err)
	}
	sum := sha256.Sum256(secret)
	res, err := execute(ctx, s, TokenStream(id), tokenDecider, token.Command(token.Create{
		Token: id, User: c.User, Name: c.Name, Hash: hex.EncodeToString(sum[:]), Admin: c.Admin, CreatedBy: by, At: s.at(),
	}))
	if err != nil {
		return CreatedToken{}, fmt.Errorf("create token: %w", err)
	}
	return CreatedToken{ID: id, User: c.User, Secret: tokenPrefix + string(id) + "." + base64.RawURLEncoding.EncodeToString(secret),
		Position: res.Last()}, nil
}

// RevokeToken revokes token id: the caller's own, or any for a server-admin caller.
// Unknown tokens and other users' tokens are both ErrNotFound for non-admins.
func (s *Service) RevokeToken(ctx context.Context, id token.ID) (events.Position, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return 0, fmt.Errorf("revoke token: %w", ErrUnauthenticated)
	}
	st, _, err := events.Fold(ctx, s.log, s.codec, TokenStream(id), token.State{}, token.Evolve)
	if err != nil {
		return 0, fmt.Errorf("revoke token %s: %w", id, err)
	}
	if !st.Exists() || (st.User() != p.User && !p.Admin) {
		return 0, fmt.Errorf("revoke token %s: %w", id, token.ErrNotFound)
	}
	res, err := execute(ctx, s, TokenStream(id), tokenDecider, token.Command(token.Revoke{By: p.User, At: s.at()}))
	if err != nil {
		return 0, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return res.Last(), nil
}

// Authenticate returns the principal a bearer secret authenticates, or ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	rest, ok := strings.CutPrefix(bearer, tokenPrefix)
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	rawID, rawSecret, ok := strings.Cut(rest, ".")
	if !ok || domain.CheckID("token", rawID) != nil {
		return Principal{}, ErrUnauthenticated
	}
	secret, err := base64.RawURLEncoding.DecodeString(rawSecret)
	if err != nil || len(secret) != 32 {
		return Principal{}, ErrUnauthenticated
	}
	id := token.ID(rawID)
	st, _, err := s.tokens.State(ctx, s.log, s.codec, TokenStream(id))
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	sum := sha256.Sum256(secret)
	want, err := hex.DecodeString(st.Hash())
	if !st.Exists() || st.Revoked() || err != nil || subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{User: st.User(), Token: id, Admin: st.Admin()}, nil
}
