package plugin

import "errors"

// Settings errors: each names a field of the datasource's configuration page.
var (
	ErrInvalidHost       = errors.New("invalid PostgreSQL host")
	ErrInvalidPort       = errors.New("invalid PostgreSQL port")
	ErrMissingDatabase   = errors.New("missing PostgreSQL database")
	ErrMissingUser       = errors.New("missing PostgreSQL user")
	ErrInvalidSSLMode    = errors.New("invalid PostgreSQL TLS mode")
	ErrInvalidReplicaURL = errors.New("invalid read-replica URL")
	ErrInvalidRedis      = errors.New("invalid Redis settings")
	ErrInvalidTimeout    = errors.New("invalid query timeout")
	ErrInvalidMaxRows    = errors.New("invalid max rows")
	ErrInvalidCacheTTL   = errors.New("invalid cache TTL override")
	ErrInvalidJSONData   = errors.New("invalid datasource settings JSON")
	ErrInvalidScope      = errors.New("invalid scope rule")
)

// Query errors the user can fix.
var (
	// ErrTemplateVariable: an alert query still holds a dashboard variable; alert rules get
	// no template variables.
	ErrTemplateVariable = errors.New("template variables are not supported in alert queries")
)
